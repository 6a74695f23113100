//! Byzantine validators of a testnet or fault run: which validator takes on which
//! behaviour. The behaviours live in the node (node/src/run/byzantine), only in a
//! `cairn` built with `--features byzantine`; a default build refuses to start a
//! validator that is asked to misbehave.

use serde::Deserialize;

/// The variable that makes a validator Byzantine.
pub const ENV: &str = "CAIRN_BYZANTINE";

/// Set (to anything) to start a Byzantine validator dormant: honest until it gets
/// SIGUSR1, so one run measures the network with and without the attack.
pub const DORMANT_ENV: &str = "CAIRN_BYZANTINE_DORMANT";

/// The behaviours a `--features byzantine` build knows (node/src/run/byzantine
/// implements each; it takes the names from here).
pub const BEHAVIOURS: [&str; 9] = [
    "silent",
    "equivocate",
    "bad-signatures",
    "double-vote",
    "inflated-timeouts",
    "replay-flood",
    "bad-frames",
    "stop-reading",
    "crafted-batches",
];

/// One Byzantine validator.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ByzantineNode {
    /// Which validator.
    pub node: usize,
    /// One of [`BEHAVIOURS`].
    pub behaviour: String,
    /// In a fault run: honest until this second, then Byzantine (absent: from the
    /// start).
    #[serde(default)]
    pub from_s: Option<f64>,
}

impl std::str::FromStr for ByzantineNode {
    type Err = String;

    /// `3:equivocate`.
    fn from_str(text: &str) -> Result<ByzantineNode, String> {
        let (node, behaviour) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?}: expected NODE:BEHAVIOUR, e.g. 3:equivocate"))?;
        let node = node
            .trim()
            .parse()
            .map_err(|_| format!("{text:?}: {node:?} is not a validator index"))?;
        Ok(ByzantineNode {
            node,
            behaviour: behaviour.trim().to_string(),
            from_s: None,
        })
    }
}

/// Checks Byzantine validators for an `n`-validator network: known behaviours,
/// existing and distinct validators, and at most f = (n - 1) / 3 of them (beyond that
/// the network is not meant to survive, so a run could show nothing).
pub fn check(byzantine: &[ByzantineNode], n: usize) -> Result<(), String> {
    let f = n.saturating_sub(1) / 3;
    if byzantine.len() > f {
        return Err(format!(
            "{} Byzantine validators of {n}: at most f = {f} are tolerated",
            byzantine.len()
        ));
    }
    for (k, b) in byzantine.iter().enumerate() {
        if b.node >= n {
            return Err(format!("Byzantine validator {} does not exist", b.node));
        }
        if byzantine[..k].iter().any(|other| other.node == b.node) {
            return Err(format!("validator {} is named Byzantine twice", b.node));
        }
        if !BEHAVIOURS.contains(&b.behaviour.as_str()) {
            return Err(format!(
                "unknown Byzantine behaviour {:?}; use one of {}",
                b.behaviour,
                BEHAVIOURS.join(", ")
            ));
        }
    }
    Ok(())
}

/// The behaviour of each of `n` validators.
pub fn per_node(byzantine: &[ByzantineNode], n: usize) -> Vec<Option<String>> {
    (0..n)
        .map(|i| {
            byzantine
                .iter()
                .find(|b| b.node == i)
                .map(|b| b.behaviour.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> ByzantineNode {
        text.parse().unwrap()
    }

    #[test]
    fn specs_parse_and_bad_ones_are_refused() {
        assert_eq!(
            node("3:equivocate"),
            ByzantineNode {
                node: 3,
                behaviour: "equivocate".into(),
                from_s: None,
            }
        );
        assert!("3".parse::<ByzantineNode>().is_err());
        assert!("x:silent".parse::<ByzantineNode>().is_err());
        assert!(check(&[node("3:silent")], 4).is_ok());
        assert!(
            check(&[node("4:silent")], 4)
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(check(&[node("1:nice")], 4).unwrap_err().contains("unknown"));
        assert!(
            check(&[node("1:silent"), node("2:silent")], 4)
                .unwrap_err()
                .contains("at most f = 1")
        );
        assert!(
            check(&[node("1:silent"), node("1:silent")], 7)
                .unwrap_err()
                .contains("twice")
        );
        assert_eq!(
            per_node(&[node("1:silent")], 3),
            vec![None, Some("silent".into()), None]
        );
    }
}
