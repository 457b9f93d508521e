//! The opt-in tier against a real Kubernetes cluster: ignored unless run
//! with a kubeconfig, read-only (they list, watch and read logs; they
//! change nothing):
//!
//! `DAY2TOP_TEST_KUBECONFIG=~/.kube/config cargo test --test kube_cluster -- --ignored`
#![cfg(feature = "kube")]

mod common;

use std::time::Duration;

use common::{demo_config, get_json, poll_until};
use day2top::api::{Check, Node, Record, ServerMsg, Task, TaskState};
use day2top::gateway::{self, RunningGateway};
use day2top::kubernetes::{Kube, KubeOptions, KubeSource};

#[derive(serde::Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// A gateway on the cluster the variable names, every namespace watched.
async fn on_the_cluster() -> Option<RunningGateway> {
    let Some(kubeconfig) = std::env::var_os("DAY2TOP_TEST_KUBECONFIG") else {
        eprintln!("skipped: set DAY2TOP_TEST_KUBECONFIG to a kubeconfig of a cluster");
        return None;
    };
    let kube = Kube::start(&KubeOptions {
        kubeconfig: Some(kubeconfig.into()),
        all_namespaces: true,
        ..Default::default()
    })
    .await
    .expect("connects with the kubeconfig");
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.kube = Some(kube.clone());
    Some(
        gateway::start(config, Box::new(KubeSource::new(kube)))
            .await
            .unwrap(),
    )
}

async fn tasks(gw: &RunningGateway) -> Vec<Task> {
    get_json::<Items<Task>>(&format!("{}/api/v1/tasks", gw.url))
        .await
        .items
}

#[tokio::test]
#[ignore]
async fn a_real_clusters_nodes_and_pods() {
    let Some(gw) = on_the_cluster().await else {
        return;
    };
    let all = poll_until("pods", Duration::from_secs(60), || async {
        let all = tasks(&gw).await;
        (!all.is_empty()).then_some(all)
    })
    .await;
    assert!(
        all.iter()
            .all(|t| t.id.contains('/') && t.labels.contains_key("namespace"))
    );
    let nodes = get_json::<Items<Node>>(&format!("{}/api/v1/nodes", gw.url))
        .await
        .items;
    assert!(
        !nodes.is_empty(),
        "no nodes (may the kubeconfig's user list them?)"
    );
    assert!(nodes.iter().all(|n| n.labels.contains_key("kubelet")));
    let checks = get_json::<Items<Check>>(&format!("{}/api/v1/health", gw.url))
        .await
        .items;
    assert!(checks.iter().any(|c| c.id == "kube:watch:pods"));
    gw.shutdown().await;
}

#[tokio::test]
#[ignore]
async fn a_real_pods_logs_arrive() {
    let Some(gw) = on_the_cluster().await else {
        return;
    };
    let pod = poll_until("a running pod", Duration::from_secs(60), || async {
        tasks(&gw)
            .await
            .into_iter()
            .find(|t| t.state == TaskState::Running)
    })
    .await;
    let mut ws = common::ws_connect(&gw.url, common::READ).await;
    let subscribe = format!(
        r#"{{"type":"subscribe","sub":"l","topic":"logs","filter":{{"task":"{}"}},"from":{{"tail":20}}}}"#,
        pod.id
    );
    common::send(&mut ws, &subscribe).await;
    // The tail comes as a snapshot (empty for a pod that logged nothing).
    loop {
        match common::next_msg(&mut ws).await {
            ServerMsg::Snapshot { items, .. } => {
                assert!(items.iter().all(|r| match r {
                    Record::Log(e) =>
                        e.task.as_deref() == Some(pod.id.as_str())
                            || e.identifier.as_deref() == Some("kube-events"),
                    _ => false,
                }));
                break;
            }
            ServerMsg::Gap { reason, .. } => eprintln!("note: {reason}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    gw.shutdown().await;
}
