//! Browsing: `head`, `block`, `tx`, `account`, `validators` and `watch`, over RPC and
//! offline, as text and as JSON. Both sources give the same answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::watch::websocket_url;
use cairn_explorer::{Explorer, ExplorerError};
use cairn_storage::testing::ChainBuilder;
use common::*;

/// Every browsing command, for the chain of `chain_dir(&[2, 1], 2)`.
fn commands(tx: &str, block_id: &str) -> Vec<ExplorerCommand> {
    vec![
        ExplorerCommand::Head,
        ExplorerCommand::Block { at: "2".into() },
        ExplorerCommand::Block {
            at: block_id.into(),
        },
        ExplorerCommand::Tx {
            hash: tx.into(),
            prove: false,
        },
        ExplorerCommand::Tx {
            hash: tx.into(),
            prove: true,
        },
        ExplorerCommand::Account {
            key: ChainBuilder::sender().to_string(),
        },
        ExplorerCommand::Validators,
    ]
}

async fn json_of(explorer: &Explorer, command: ExplorerCommand) -> serde_json::Value {
    serde_json::from_str(&output(explorer, command).await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_and_offline_give_the_same_answers() {
    let dir = chain_dir(&[2, 1], 2);
    let offline_json = offline(dir.path(), true);
    let offline_text = offline(dir.path(), false);
    let served = serve(dir.path()).await;
    let online_json = online(&served.url, true).await;
    let online_text = online(&served.url, false).await;
    let block = served.store.block_at(2).unwrap().unwrap();
    let tx = block.txs[1].hash().to_string();
    for command in commands(&tx, &format!("0x{}", block.id())) {
        let name = command.name();
        let online = json_of(&online_json, command.clone()).await;
        let offline = json_of(&offline_json, command.clone()).await;
        assert_eq!(online, offline, "{name}");
        let online = output(&online_text, command.clone()).await.unwrap();
        let offline = output(&offline_text, command).await.unwrap();
        assert_eq!(online, offline, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_command_shows_what_it_reads() {
    let dir = chain_dir(&[2, 1], 2);
    let served = serve(dir.path()).await;
    let text = online(&served.url, false).await;
    let json = online(&served.url, true).await;
    let head = served.store.head().unwrap();

    let shown = output(&text, ExplorerCommand::Head).await.unwrap();
    assert!(shown.contains("height:        3\n"), "{shown}");
    assert!(
        shown.contains(&format!("block id:      0x{}", head.id)),
        "{shown}"
    );
    assert!(shown.contains("transactions:  2\n"), "{shown}");
    let value = json_of(&json, ExplorerCommand::Head).await;
    assert_eq!(value["height"], 3);
    assert_eq!(value["block_id"], format!("0x{}", head.id));

    let block = served.store.block_at(2).unwrap().unwrap();
    let shown = output(&text, ExplorerCommand::Block { at: "2".into() })
        .await
        .unwrap();
    assert!(
        shown.contains(&format!("block id:      0x{}", block.id())),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("parent:        0x{}", block.header.parent)),
        "{shown}"
    );
    assert!(shown.contains("signed by v0 v1 v2"), "{shown}");
    assert!(shown.contains("#  HASH"), "{shown}");
    assert!(
        shown.contains("put \"key/3\" = 0x0300000000000000  applied"),
        "{shown}"
    );
    let value = json_of(
        &json,
        ExplorerCommand::Block {
            at: block.id().to_string(),
        },
    )
    .await;
    assert_eq!(value["height"], 2);
    assert_eq!(value["txs"].as_array().unwrap().len(), 2);

    let tx = block.txs[0].hash();
    let shown = output(
        &text,
        ExplorerCommand::Tx {
            hash: tx.to_string(),
            prove: false,
        },
    )
    .await
    .unwrap();
    assert!(
        shown.contains("status:    committed\nheight:    2\nindex:     0\n"),
        "{shown}"
    );
    assert!(shown.contains("outcome:   applied"), "{shown}");

    let shown = output(
        &text,
        ExplorerCommand::Account {
            key: format!("0x{}", ChainBuilder::sender()),
        },
    )
    .await
    .unwrap();
    assert!(shown.contains("role:        writer\n"), "{shown}");
    assert!(shown.contains("next nonce:  6\n"), "{shown}");
    let stranger = cairn_crypto::SecretKey::from_seed(&[77; 32]).public();
    let command = ExplorerCommand::Account {
        key: stranger.to_string(),
    };
    let shown = output(&text, command.clone()).await.unwrap();
    assert_eq!(
        shown,
        format!("account 0x{stranger} is not known to the chain\n")
    );
    assert_eq!(json_of(&json, command).await, serde_json::Value::Null);

    let shown = output(&text, ExplorerCommand::Validators).await.unwrap();
    assert!(
        shown.contains("validators:  4\nquorum:      3\n"),
        "{shown}"
    );
    assert!(shown.contains("ID  NAME  CONSENSUS KEY"), "{shown}");
    assert!(shown.contains("/ip4/127.0.0.1/tcp/30403"), "{shown}");
    let value = json_of(&json, ExplorerCommand::Validators).await;
    assert_eq!(value["validators"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_things_and_bad_arguments_are_clear_errors() {
    let dir = chain_dir(&[1], 1);
    let served = serve(dir.path()).await;
    let explorer = online(&served.url, false).await;
    let error = output(&explorer, ExplorerCommand::Block { at: "9".into() })
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no committed block at height 9"),
        "{error}"
    );
    let error = output(&explorer, ExplorerCommand::Block { at: "nine".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExplorerError::BadArgument { what: "block", .. }),
        "{error}"
    );
    let command = ExplorerCommand::Tx {
        hash: "0x1234".into(),
        prove: false,
    };
    let error = output(&explorer, command).await.unwrap_err();
    assert!(
        matches!(
            error,
            ExplorerError::BadArgument {
                what: "transaction hash",
                ..
            }
        ),
        "{error}"
    );
    let unknown = cairn_crypto::Hash::digest(b"never submitted").to_string();
    let shown = output(
        &explorer,
        ExplorerCommand::Tx {
            hash: unknown.clone(),
            prove: false,
        },
    )
    .await
    .unwrap();
    assert!(shown.contains("status:  unknown\n"), "{shown}");
    let error = output(
        &explorer,
        ExplorerCommand::Tx {
            hash: unknown,
            prove: true,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &error,
            ExplorerError::Rpc {
                method: "tx_proof",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_new_blocks_over_the_websocket() {
    let dir = chain_dir(&[1, 1], 1);
    let served = serve(dir.path()).await;
    let explorer = online(&served.url, false).await;
    // Replays heights 1 and 2, then waits for the block committed below.
    let watching = async {
        let mut out = Vec::new();
        explorer.watch(Some(1), Some(3), &mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    };
    let committing = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut builder = ChainBuilder::resume(&served.store, 1).unwrap();
        let head = served.store.commit(&builder.next_commit(1)).unwrap();
        served.heads.send(head).unwrap();
        head
    };
    let (shown, head) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(watching, committing)
    })
    .await
    .expect("watch did not see the new block");
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 4, "{shown}");
    assert!(lines[0].starts_with("HEIGHT    BLOCK ID"), "{shown}");
    for (line, height) in lines[1..].iter().zip(1..) {
        assert!(line.starts_with(&format!("{height:<8}  0x")), "{shown}");
    }
    assert!(lines[3].contains(&format!("0x{}", head.id)), "{shown}");

    // JSON: one head object per line; given a ws:// URL, its connection is used.
    let explorer = online(&websocket_url(&served.url), true).await;
    let mut out = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        explorer.watch(Some(2), Some(2), &mut out),
    )
    .await
    .unwrap()
    .unwrap();
    let heights: Vec<u64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["height"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(heights, vec![2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_offline_polls_the_data_directory() {
    let dir = chain_dir(&[1], 1);
    let writer = cairn_storage::Store::open(dir.path(), &ChainBuilder::chain_id()).unwrap();
    let explorer = offline(dir.path(), true);
    let watching = async {
        let mut out = Vec::new();
        explorer.watch(None, Some(2), &mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    };
    let committing = async {
        let mut builder = ChainBuilder::resume(&writer, 1).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer.commit(&builder.next_commit(2)).unwrap()
    };
    let (shown, head) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(watching, committing)
    })
    .await
    .expect("watch did not see the new blocks");
    let heads: Vec<serde_json::Value> = shown
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(heads.len(), 2, "{shown}");
    assert_eq!(heads[0]["height"], 2);
    assert_eq!(heads[1]["height"], 3);
    assert_eq!(heads[1]["block_id"], format!("0x{}", head.id));
}
