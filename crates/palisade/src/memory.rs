//! How the process holds memory: the binary's two memory settings, each a
//! system or allocator call (the binary's only unsafe code besides the
//! SIGPIPE disposition in `main.rs`).
//!
//! - No transparent huge pages (`prctl(PR_SET_THP_DISABLE)`): mimalloc asks
//!   the kernel for huge pages, so every 2 MiB region it touches becomes
//!   resident. For `scan` that is 55-57 MiB of peak RSS on the real-world
//!   corpus instead of 48; for `serve` it is part of the overload figure
//!   below.
//! - For the webhook and the auditor, freed memory goes back to the kernel at once
//!   (mimalloc's `purge_delay` 0 instead of its default 1,000 ms): under
//!   overload the webhook frees reviews of 1,000 containers (about 1 MiB
//!   decoded, 4 MiB of findings) many times a second on several threads,
//!   and with the delay the pages of several such generations stay resident.
//!   `bench/webhook.sh overload`: peak RSS 125 MiB with mimalloc's defaults,
//!   92 MiB with purging at once, 74 MiB with no huge pages as well, 55 MiB
//!   with the smaller default byte budget (`webhook.maxQueuedBytes`); see
//!   the README, "Webhook benchmark". Throughput is unchanged (same README).

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (include/mimalloc.h
/// of v2 and v3, which keep deprecated entries so the numbers stay put):
/// libmimalloc-sys declares the function but not this constant.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// For a batch command (`scan`): no transparent huge pages.
pub fn batch() {
    no_huge_pages();
}

/// For a server (`serve`) and for `audit`, whose memory target is the
/// tightest for its input (100,000 objects in 500 MiB): no transparent huge
/// pages, and freed pages returned to the kernel at once. `bench/audit.sh`,
/// 100,000 objects, `-f json`: 490 MiB peak RSS with mimalloc's delay, 380
/// MiB without, in the same time (3.2 s).
pub fn compact() {
    no_huge_pages();
    purge_at_once();
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // one of the binary's unsafe calls (main.rs denies the rest)
fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE sets a flag of this process that the kernel
    // reads on later page faults; the arguments are the documented ones (flag
    // on, then zeros). A failing call leaves huge pages allowed: more memory,
    // same results.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}

#[allow(unsafe_code)] // one of the binary's unsafe calls (main.rs denies the rest)
fn purge_at_once() {
    // SAFETY: mi_option_set only stores an integer in mimalloc's option
    // table, which mimalloc reads with atomic loads; the option is a valid
    // index of that table and 0 a documented value ("0 for immediate
    // purging").
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}
