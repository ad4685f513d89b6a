//! What each Pod Security rule checks, why, and how to fix it.

/// Title, description and remediation of the rule for upstream check `id`.
pub fn texts(id: &str) -> (&'static str, &'static str, &'static str) {
    match id {
        "hostNamespaces" => (
            "Pod Security: pod shares the node's network, PID or IPC namespace",
            "Baseline. hostNetwork, hostPID and hostIPC give the container the node's network stack, processes or shared memory: a compromised container can sniff node traffic, signal node processes or read their memory.",
            "Remove hostNetwork, hostPID and hostIPC (or set them to false).",
        ),
        "privileged" => (
            "Pod Security: privileged container",
            "Baseline. A privileged container has every capability and the node's devices; escaping to the node is trivial.",
            "Remove securityContext.privileged or set it to false; grant the single capability the workload needs instead.",
        ),
        "capabilities_baseline" => (
            "Pod Security: capabilities beyond the default set",
            "Baseline. Adding capabilities beyond the container runtime's default set (NET_RAW, SYS_ADMIN, ...) hands the container kernel powers that enable known escalations.",
            "Remove the extra entries from securityContext.capabilities.add.",
        ),
        "hostPathVolumes" => (
            "Pod Security: hostPath volume",
            "Baseline. A hostPath volume mounts a file or directory of the node; writable node paths let a container take over the node.",
            "Use a persistentVolumeClaim, configMap, secret or emptyDir volume instead of hostPath.",
        ),
        "hostPorts" => (
            "Pod Security: host port",
            "Baseline. A hostPort binds a port on the node's own address, bypassing network policy and exposing the pod where Services would not.",
            "Remove hostPort and expose the container through a Service.",
        ),
        "appArmorProfile" => (
            "Pod Security: AppArmor profile unconfined",
            "Baseline. AppArmor confines what a container may do on the node; the Unconfined profile (field or beta annotation) turns that off.",
            "Use the RuntimeDefault or a Localhost AppArmor profile, or leave it unset.",
        ),
        "seLinuxOptions" => (
            "Pod Security: custom SELinux options",
            "Baseline. Setting an SELinux user or role, or a type outside the container types, can lift the confinement SELinux gives containers.",
            "Remove seLinuxOptions.user and .role and use a container_* type (or leave the type empty).",
        ),
        "procMount" => (
            "Pod Security: unmasked /proc",
            "Baseline. The default /proc mount masks paths that expose the node's kernel; Unmasked removes that protection (allowed from v1.35 for pods with hostUsers: false).",
            "Remove securityContext.procMount or set it to Default.",
        ),
        "seccompProfile_baseline" => (
            "Pod Security: seccomp unconfined",
            "Baseline. Seccomp filters the system calls a container may make; an Unconfined profile (field, or the alpha annotations before v1.19) opens the whole kernel API.",
            "Set seccompProfile.type to RuntimeDefault or Localhost, or leave it unset.",
        ),
        "sysctls" => (
            "Pod Security: unsafe sysctl",
            "Baseline. Only namespaced sysctls known to be safe may be set; others change node-wide kernel settings. The safe list grows with the policy version.",
            "Remove the sysctl, or run the workload where a higher version allows it.",
        ),
        "windowsHostProcess" => (
            "Pod Security: Windows HostProcess container",
            "Baseline. A Windows HostProcess container runs directly on the node with the node's privileges.",
            "Remove windowsOptions.hostProcess or set it to false.",
        ),
        "hostProbesAndHostLifecycle" => (
            "Pod Security: probe or lifecycle handler aimed at another host",
            "Baseline from v1.34. A host in an httpGet or tcpSocket probe or lifecycle handler makes the kubelet connect to an arbitrary address, which can be abused to reach internal services.",
            "Remove the host field so the handler targets the pod itself.",
        ),
        "invalidFields" => (
            "Pod Security: field of the wrong type or out of range",
            "Palisade. A security field the Pod Security checks read has the wrong type or range (a string where a boolean belongs, a negative runAsUser, an unknown seccomp type). The API server rejects such a pod, and tools disagree on what it means, so it is never passed silently.",
            "Give the field a value of the documented type, e.g. privileged: false, runAsUser: 1000, seccompProfile.type: RuntimeDefault.",
        ),
        "restrictedVolumes" => (
            "Pod Security: restricted volume type",
            "Restricted. Only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes are allowed; other types reach node or storage internals directly.",
            "Use one of the allowed volume types, typically a persistentVolumeClaim.",
        ),
        "allowPrivilegeEscalation" => (
            "Pod Security: privilege escalation allowed",
            "Restricted from v1.8. Unless allowPrivilegeEscalation is false, setuid binaries and file capabilities can give a process more privileges than its parent (Windows pods exempt from v1.25).",
            "Set securityContext.allowPrivilegeEscalation: false on every container.",
        ),
        "runAsNonRoot" => (
            "Pod Security: may run as root",
            "Restricted. Without runAsNonRoot: true the container may run as UID 0, the owner of most of the node's files once it escapes (pods with hostUsers: false are exempt from v1.35).",
            "Set securityContext.runAsNonRoot: true on the pod (or every container) and use a non-root image user.",
        ),
        "runAsUser" => (
            "Pod Security: runs as UID 0",
            "Restricted from v1.23. runAsUser: 0 runs the container as root (pods with hostUsers: false are exempt from v1.35).",
            "Set runAsUser to a non-zero UID, or remove it and set runAsNonRoot: true.",
        ),
        "seccompProfile_restricted" => (
            "Pod Security: seccomp profile not set",
            "Restricted from v1.19. Every container must run under the RuntimeDefault or a Localhost seccomp profile, set on the pod or the container (Windows pods exempt from v1.25).",
            "Set spec.securityContext.seccompProfile.type: RuntimeDefault.",
        ),
        "capabilities_restricted" => (
            "Pod Security: capabilities not dropped",
            "Restricted from v1.22. Containers must drop ALL capabilities and may add back only NET_BIND_SERVICE (Windows pods exempt from v1.25).",
            "Set securityContext.capabilities.drop: [\"ALL\"] and add only NET_BIND_SERVICE if needed.",
        ),
        "procMount_restricted" => (
            "Pod Security: unmasked /proc (restricted)",
            "Restricted from v1.35. The /proc mount must be Default even for pods in a user namespace.",
            "Remove securityContext.procMount or set it to Default.",
        ),
        _ => ("Pod Security check", "A check of the Pod Security Standards.", "See the Pod Security Standards."),
    }
}
