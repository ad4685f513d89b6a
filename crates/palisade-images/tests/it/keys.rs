//! Keys: every supported type verifies OpenSSL's signatures; cosign's
//! encrypted private keys (real cosign output) open; an unknown key type is
//! refused by name.

use crate::support::{read, supply};
use palisade_images::{KeyError, PublicKey, SigningKey};

#[test]
fn openssl_signatures_verify_with_each_key_type() {
    let msg = std::fs::read(supply("openssl-keys/message.txt")).unwrap();
    for (name, alg) in [
        ("rsa", "rsa"),
        ("p256", "ecdsa-p256"),
        ("p384", "ecdsa-p384"),
        ("ed25519", "ed25519"),
    ] {
        let key = PublicKey::from_pem(&read(&format!("openssl-keys/{name}.pub"))).unwrap();
        assert_eq!(key.algorithm(), alg);
        let sig = std::fs::read(supply(&format!("openssl-keys/{name}.sig"))).unwrap();
        assert!(
            key.verify(&msg, &sig),
            "{name}: OpenSSL's signature verifies"
        );
        assert!(
            !key.verify(b"another message", &sig),
            "{name}: not over another message"
        );
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(!key.verify(&msg, &bad), "{name}: a flipped bit fails");
        assert!(
            !key.verify(&msg, &sig[..sig.len() / 2]),
            "{name}: truncated fails"
        );
        assert!(!key.verify(&msg, b""), "{name}: empty fails");
    }
}

#[test]
fn own_signatures_verify_with_the_public_key() {
    for name in ["p256", "p384", "ed25519"] {
        let sk = SigningKey::from_pem(&read(&format!("openssl-keys/{name}.key")), b"").unwrap();
        let pk = PublicKey::from_pem(&read(&format!("openssl-keys/{name}.pub"))).unwrap();
        let sig = sk.sign(b"hello");
        assert!(pk.verify(b"hello", &sig), "{name}");
        let other = PublicKey::from_pem(&read("synth-two-attestors/keys/attestor-a.pub")).unwrap();
        assert!(
            !other.verify(b"hello", &sig),
            "{name}: another key refuses it"
        );
    }
}

#[test]
fn unknown_key_type_is_named() {
    let e = PublicKey::from_pem(&read("openssl-keys/x25519.pub")).unwrap_err();
    assert!(matches!(e, KeyError::Unsupported(_)), "{e}");
    assert!(
        e.to_string().contains("1.3.101.110"),
        "names the X25519 OID: {e}"
    );
}

#[test]
fn cosign_encrypted_keys_open_with_their_password() {
    // Written by cosign (empty password) and by sigstore-rs (password "123").
    let k = read("sigstore-rs-keys/tests/data/keys/cosign_generated_encrypted_empty_private.key");
    let sk = SigningKey::from_pem(&k, b"").expect("cosign key, empty password");
    assert!(sk.public_key().verify(b"m", &sk.sign(b"m")));
    assert!(matches!(
        SigningKey::from_pem(&k, b"wrong"),
        Err(KeyError::Decrypt)
    ));
    let k = read("sigstore-rs-keys/tests/data/keys/ecdsa_encrypted_private.key");
    let sk = SigningKey::from_pem(&k, b"123").expect("encrypted COSIGN key, password 123");
    assert!(sk.public_key().verify(b"m", &sk.sign(b"m")));
    assert!(matches!(
        SigningKey::from_pem(&k, b"12"),
        Err(KeyError::Decrypt)
    ));
}

#[test]
fn generated_keys_round_trip_encrypted() {
    let sk = SigningKey::generate();
    let pem = sk.to_encrypted_pem(b"pw").unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let back = SigningKey::from_pem(&pem, b"pw").unwrap();
    assert_eq!(back.public_key_pem().unwrap(), sk.public_key_pem().unwrap());
    assert!(matches!(
        SigningKey::from_pem(&pem, b"no"),
        Err(KeyError::Decrypt)
    ));
}
