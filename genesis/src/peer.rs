//! Network identities and addresses of validators: libp2p peer ids of ed25519 keys,
//! and the multiaddrs other validators dial.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use cairn_crypto::PublicKey;
use libp2p_identity::PeerId;
use multiaddr::{Multiaddr, Protocol};

/// Multihash code of the identity "hash": the digest is the data itself.
const MULTIHASH_IDENTITY: u64 = 0x00;
/// Multihash code of SHA2-256.
const MULTIHASH_SHA2_256: u64 = 0x12;

/// Examples of good addresses, for error messages.
const EXAMPLE: &str = "expected e.g. /ip4/10.0.0.1/tcp/30400, /dns4/v0.example.com/tcp/30400 \
                       or /ip4/10.0.0.1/udp/30400/quic-v1, optionally followed by /p2p/<peer id>";

/// The libp2p [`PeerId`] of an ed25519 network public key: the identity multihash of
/// the key's protobuf encoding, shown in base58 as `12D3KooW…`.
#[allow(
    clippy::expect_used,
    reason = "PublicKey only holds bytes that ed25519-dalek accepts as a point, and \
              libp2p-identity checks them with the same ed25519-dalek"
)]
pub fn network_peer_id(key: &PublicKey) -> PeerId {
    let ed = libp2p_identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .expect("a cairn PublicKey is a valid ed25519 point");
    libp2p_identity::PublicKey::from(ed).to_peer_id()
}

/// A validator's peer id, parsed and checked: an ed25519 identity-multihash peer id,
/// in canonical form, whose embedded key is a usable ed25519 key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CheckedPeer {
    /// The peer id.
    pub peer_id: PeerId,
    /// The network public key it embeds.
    pub network_key: PublicKey,
}

/// Parses and checks the text of a validator's `peer_id`. The error says what is wrong
/// and what to do.
pub(crate) fn check_peer_id(text: &str) -> Result<CheckedPeer, String> {
    const HINT: &str = "use the peer id printed for the validator's ed25519 network key \
                        (it starts with 12D3KooW)";
    let peer_id = PeerId::from_str(text)
        .map_err(|e| format!("{text:?} is not a libp2p peer id ({e}); {HINT}"))?;
    let multihash = peer_id.as_ref();
    match multihash.code() {
        MULTIHASH_IDENTITY => {}
        MULTIHASH_SHA2_256 => {
            return Err(format!(
                "{text} is a hashed (SHA2-256) peer id, which does not contain its public \
                 key; cairn validators need ed25519 network keys, whose peer ids embed the \
                 key; {HINT}"
            ));
        }
        code => {
            return Err(format!(
                "{text} uses multihash code {code:#x}; cairn validators need ed25519 \
                 identity peer ids; {HINT}"
            ));
        }
    }
    let libp2p_key = libp2p_identity::PublicKey::try_decode_protobuf(multihash.digest())
        .map_err(|e| format!("{text} does not contain a usable public key ({e}); {HINT}"))?;
    let key_type = libp2p_key.key_type();
    let ed = libp2p_key.try_into_ed25519().map_err(|_| {
        format!(
            "{text} is the peer id of a {key_type:?} key; cairn validators need ed25519 \
             network keys; {HINT}"
        )
    })?;
    let network_key = PublicKey::try_from_bytes(ed.to_bytes()).map_err(|e| {
        format!("{text} embeds an unusable ed25519 key ({e}); generate a new network key")
    })?;
    // The protobuf decoder tolerates encodings other than the one libp2p produces,
    // which would let one key appear under two different peer ids.
    let canonical = network_peer_id(&network_key);
    if canonical != peer_id || canonical.to_string() != text {
        return Err(format!(
            "{text} is not the canonical peer id of the key it contains; write {canonical}"
        ));
    }
    Ok(CheckedPeer {
        peer_id,
        network_key,
    })
}

/// A validator's dial address, parsed and checked.
#[derive(Clone, Debug)]
pub(crate) struct CheckedAddress {
    /// The multiaddr in canonical text form (as the multiaddr crate prints it).
    pub canonical: String,
    /// The host and transport without any `/p2p/…` suffix, with DNS names lowercased:
    /// two validators with the same endpoint collide even if only one names its peer.
    pub endpoint: String,
    /// The peer id named by a trailing `/p2p/<id>`, if any.
    pub p2p: Option<PeerId>,
}

/// Parses and checks the text of a validator's `address`: a host (`ip4`, `ip6`, `dns`,
/// `dns4`, `dns6`), then `tcp/<port>` or `udp/<port>/quic-v1`, then optionally
/// `p2p/<peer id>`.
pub(crate) fn check_address(text: &str) -> Result<CheckedAddress, String> {
    let addr = Multiaddr::from_str(text)
        .map_err(|e| format!("{text:?} is not a multiaddr ({e}); {EXAMPLE}"))?;
    let parts: Vec<Protocol<'_>> = addr.iter().collect();
    let (host, rest) = parts
        .split_first()
        .ok_or_else(|| format!("the address is empty; {EXAMPLE}"))?;
    let host_text = check_host(host).map_err(|e| format!("{text}: {e}"))?;
    let (transport, rest) = match rest {
        [Protocol::Tcp(port), rest @ ..] => (("tcp", *port), rest),
        [Protocol::Udp(port), Protocol::QuicV1, rest @ ..] => (("udp", *port), rest),
        [Protocol::Udp(_), ..] => {
            return Err(format!(
                "{text}: a UDP address must be followed by /quic-v1 (the only UDP transport \
                 cairn speaks); {EXAMPLE}"
            ));
        }
        _ => {
            return Err(format!(
                "{text}: the host must be followed by /tcp/<port> or /udp/<port>/quic-v1; {EXAMPLE}"
            ));
        }
    };
    if transport.1 == 0 {
        return Err(format!(
            "{text}: port 0 means \"any port\" and cannot be dialed; give the port the \
             validator listens on"
        ));
    }
    let p2p = match rest {
        [] => None,
        [Protocol::P2p(peer)] => Some(*peer),
        _ => {
            return Err(format!(
                "{text}: unexpected components after the transport; only a trailing \
                 /p2p/<peer id> is allowed; {EXAMPLE}"
            ));
        }
    };
    let suffix = if transport.0 == "udp" { "/quic-v1" } else { "" };
    Ok(CheckedAddress {
        canonical: addr.to_string(),
        endpoint: format!("{host_text}/{}/{}{suffix}", transport.0, transport.1),
        p2p,
    })
}

/// Checks the host component; returns it as text for endpoint comparison.
fn check_host(host: &Protocol<'_>) -> Result<String, String> {
    match host {
        Protocol::Ip4(ip) => check_ip(IpAddr::V4(*ip)).map(|()| format!("/ip4/{ip}")),
        Protocol::Ip6(ip) => check_ip(IpAddr::V6(*ip)).map(|()| format!("/ip6/{ip}")),
        Protocol::Dns(name) => check_dns(name).map(|n| format!("/dns/{n}")),
        Protocol::Dns4(name) => check_dns(name).map(|n| format!("/dns4/{n}")),
        Protocol::Dns6(name) => check_dns(name).map(|n| format!("/dns6/{n}")),
        _ => Err(format!(
            "the address must start with /ip4, /ip6, /dns, /dns4 or /dns6; {EXAMPLE}"
        )),
    }
}

/// Refuses addresses that cannot be dialed: unspecified (`0.0.0.0`, `::`), broadcast
/// and multicast.
fn check_ip(ip: IpAddr) -> Result<(), String> {
    if ip.is_unspecified() {
        return Err(format!(
            "{ip} is a listen-on-everything address and cannot be dialed; give an address \
             other validators can reach"
        ));
    }
    if ip.is_multicast() || ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
        return Err(format!("{ip} is a broadcast or multicast address"));
    }
    // An IPv4-mapped IPv6 address is the same endpoint as the IPv4 one; ask for the
    // plain form so that duplicates are caught.
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        return Err(format!("{ip} is IPv4-mapped; write it as /ip4/{v4}"));
    }
    Ok(())
}

/// Checks a DNS name's syntax (letters, digits, `-`, `.`; at most 253 characters);
/// returns it lowercased.
fn check_dns(name: &str) -> Result<String, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let ok = !trimmed.is_empty()
        && trimmed.len() <= 253
        && trimmed.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(trimmed.to_ascii_lowercase())
    } else {
        Err(format!("{name:?} is not a valid DNS name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::SecretKey;

    fn key(seed: u8) -> PublicKey {
        SecretKey::from_seed(&[seed; 32]).public()
    }

    #[test]
    fn network_peer_id_is_an_ed25519_identity_peer_id() {
        let peer = network_peer_id(&key(1));
        assert!(peer.to_string().starts_with("12D3KooW"), "{peer}");
        let bytes = peer.to_bytes();
        assert_eq!(&bytes[..6], &[0x00, 0x24, 0x08, 0x01, 0x12, 0x20]);
        assert_eq!(&bytes[6..], key(1).as_bytes());
        let checked = check_peer_id(&peer.to_string()).unwrap();
        assert_eq!(checked.peer_id, peer);
        assert_eq!(checked.network_key, key(1));
    }

    #[test]
    fn hashed_and_non_ed25519_peer_ids_are_refused() {
        let sha256 = PeerId::from_bytes(&[[0x12, 0x20].as_slice(), &[7u8; 32]].concat()).unwrap();
        let err = check_peer_id(&sha256.to_string()).unwrap_err();
        assert!(err.contains("SHA2-256"), "{err}");

        // Identity multihash of a protobuf secp256k1 key (Type = 2, 33 bytes).
        let mut proto = vec![0x08, 0x02, 0x12, 0x21, 0x02];
        proto.extend_from_slice(&[9u8; 32]);
        let mut bytes = vec![0x00, proto.len() as u8];
        bytes.extend_from_slice(&proto);
        let secp = PeerId::from_bytes(&bytes).unwrap();
        assert!(check_peer_id(&secp.to_string()).is_err());

        // An identity multihash of bytes that are not a protobuf key at all.
        let junk = PeerId::from_bytes(&[[0x00, 0x20].as_slice(), &[0xffu8; 32]].concat()).unwrap();
        assert!(check_peer_id(&junk.to_string()).is_err());

        assert!(check_peer_id("12D3KooWnot-base58!").is_err());
        assert!(check_peer_id("").is_err());
    }

    #[test]
    fn addresses() {
        let ok = check_address("/ip4/127.0.0.1/tcp/30400").unwrap();
        assert_eq!(ok.canonical, "/ip4/127.0.0.1/tcp/30400");
        assert_eq!(ok.p2p, None);
        let quic = check_address("/dns4/V0.Example.com/udp/30400/quic-v1").unwrap();
        assert_eq!(quic.endpoint, "/dns4/v0.example.com/udp/30400/quic-v1");
        let ip6 = check_address("/ip6/::1/tcp/1").unwrap();
        assert_eq!(ip6.canonical, "/ip6/::1/tcp/1");
        let peer = network_peer_id(&key(2));
        let with_p2p = check_address(&format!("/ip4/10.0.0.1/tcp/30400/p2p/{peer}")).unwrap();
        assert_eq!(with_p2p.p2p, Some(peer));
        assert_eq!(with_p2p.endpoint, "/ip4/10.0.0.1/tcp/30400");

        for bad in [
            "",
            "127.0.0.1:30400",
            "/ip4/127.0.0.1",
            "/ip4/127.0.0.1/tcp/0",
            "/ip4/0.0.0.0/tcp/30400",
            "/ip6/::/tcp/30400",
            "/ip6/::ffff:10.0.0.1/tcp/30400",
            "/ip4/127.0.0.1/udp/30400",
            "/ip4/127.0.0.1/udp/30400/quic",
            "/ip4/127.0.0.1/tcp/30400/ws",
            "/tcp/30400",
            "/dns/-bad-.com/tcp/1",
            "/unix/tmp%2Fsock",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
