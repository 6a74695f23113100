//! `cli::run` end to end: the genesis file is read, validated and used as the trust
//! root; `--data-dir` opens the store for the genesis's chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use cairn_explorer::ExplorerError;
use cairn_explorer::cli::{DEFAULT_RPC_URL, ExplorerArgs, ExplorerCommand, run};
use cairn_storage::{ChainFault, StorageError, Store};
use common::*;
use tempfile::TempDir;

/// A genesis file, and an (empty) data directory initialised for its chain.
fn genesis_and_store() -> (TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("genesis.json");
    genesis_doc().save(&file).unwrap();
    let data = dir.path().join("data");
    Store::open(&data, &genesis().chain_id()).unwrap();
    (dir, file, data)
}

fn args(
    data_dir: Option<PathBuf>,
    genesis: Option<PathBuf>,
    command: ExplorerCommand,
) -> ExplorerArgs {
    ExplorerArgs {
        rpc: DEFAULT_RPC_URL.into(),
        data_dir,
        genesis,
        command,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_commands_run_against_the_genesis_chain() {
    let (_dir, file, data) = genesis_and_store();
    for command in [
        ExplorerCommand::Head,
        ExplorerCommand::Validators,
        ExplorerCommand::Verify,
    ] {
        for json in [false, true] {
            run(
                args(Some(data.clone()), Some(file.clone()), command.clone()),
                json,
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", command.name()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_of_another_chain_is_refused() {
    let (_dir, file, _) = genesis_and_store();
    let other = chain_dir(&[1], 1);
    let error = run(
        args(Some(other.path().into()), Some(file), ExplorerCommand::Head),
        false,
    )
    .await
    .unwrap_err();
    let ExplorerError::Store { source, .. } = &error else {
        panic!("expected a store error, got {error}");
    };
    assert!(
        matches!(**source, StorageError::WrongChain { .. }),
        "{source}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_chain_fails_verification_against_the_genesis() {
    // The node serves the chain builder's chain; the genesis file names another.
    let (_dir, file, _) = genesis_and_store();
    let chain = chain_dir(&[1, 2], 1);
    let served = serve(chain.path()).await;
    let mut verify = args(None, Some(file.clone()), ExplorerCommand::Verify);
    verify.rpc = served.url.clone();
    match run(verify, true).await {
        Err(ExplorerError::InvalidChain {
            height: 1,
            fault: ChainFault::WrongChain { found },
        }) => assert_eq!(found, trust().chain),
        other => panic!("expected a wrong chain, got {other:?}"),
    }
    // Browsing does not need the genesis.
    let mut head = args(None, None, ExplorerCommand::Head);
    head.rpc = served.url.clone();
    run(head, false).await.unwrap();
    // Verifying does.
    let mut verify = args(None, None, ExplorerCommand::Verify);
    verify.rpc = served.url.clone();
    assert!(matches!(
        run(verify, false).await.unwrap_err(),
        ExplorerError::GenesisRequired { command: "verify" }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_problems_are_reported_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let error = run(
        args(None, Some(missing.clone()), ExplorerCommand::Head),
        false,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ExplorerError::Genesis { path, .. } if *path == missing),
        "{error}"
    );
    assert!(error.to_string().contains("missing.json"), "{error}");

    let invalid = dir.path().join("invalid.json");
    let mut doc = genesis_doc();
    doc.validators.clear();
    doc.save(&invalid).unwrap();
    let error = run(args(None, Some(invalid), ExplorerCommand::Head), false)
        .await
        .unwrap_err();
    assert!(matches!(error, ExplorerError::Genesis { .. }), "{error}");

    let error = run(
        args(Some(dir.path().into()), None, ExplorerCommand::Head),
        false,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, ExplorerError::OfflineNeedsGenesis { .. }),
        "{error}"
    );
}
