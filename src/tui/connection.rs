//! The gateway the console talks to: the contexts it can switch between,
//! and the subscriptions and reads it opens on one.

use color_eyre::eyre::{Result, eyre};
use tokio::sync::mpsc;

use crate::api::{ClusterInfo, Filter, Topic};
use crate::client::{Client, Endpoint, History, StreamHandle, Subscription};
use crate::tui::chrome::bars::Origin;
use crate::tui::model::signals::TRIAGE_SERIES;
use crate::tui::model::{
    self, SUB_ERRORS, SUB_HEALTH, SUB_NODE_METRICS, SUB_NODES, SUB_TASK_METRICS, SUB_TASKS,
    SUB_TRACES, TASK_CPU_SERIES, TASK_MEM_SERIES,
};

/// A gateway the console can show, by name.
#[derive(Debug, Clone)]
pub struct Context {
    pub name: String,
    pub endpoint: Endpoint,
    /// Exec is hidden in this context (`--readonly`, `readonly = true`).
    pub readonly: bool,
    /// A Prometheus that scrapes this gateway (or a hub's agents), for
    /// dashboard windows past what the gateway holds (`--prometheus`).
    pub prometheus: Option<String>,
}

/// What the console subscribes to.
pub fn subscriptions() -> Vec<Subscription> {
    vec![
        Subscription {
            sub: SUB_NODES.into(),
            topic: Topic::Nodes,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_TASKS.into(),
            topic: Topic::Tasks,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_TASK_METRICS.into(),
            topic: Topic::Metrics,
            filter: Filter {
                names: vec![TASK_CPU_SERIES.into(), TASK_MEM_SERIES.into()],
                points: Some(model::TASK_SPARK_POINTS),
                ..Default::default()
            },
        },
        Subscription {
            sub: SUB_TRACES.into(),
            topic: Topic::Spans,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_HEALTH.into(),
            topic: Topic::Health,
            filter: Filter::default(),
        },
        Subscription {
            sub: SUB_NODE_METRICS.into(),
            topic: Topic::Metrics,
            filter: Filter {
                names: TRIAGE_SERIES.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
        },
        // Error lines, for triage: the gateway filters, so a console is
        // sent only these while no log view is open.
        Subscription {
            sub: SUB_ERRORS.into(),
            topic: Topic::Logs,
            filter: Filter {
                priority: Some(3),
                ..Default::default()
            },
        },
    ]
}

/// What a recording subscribes to: the console's subscriptions and every
/// log line, so that a replay can open any log view.
pub fn recorded_subscriptions() -> Vec<Subscription> {
    let mut subs = subscriptions();
    subs.push(Subscription {
        sub: model::SUB_RECORDED_LOGS.into(),
        topic: Topic::Logs,
        filter: Filter::default(),
    });
    subs
}

/// The client and stream of a context, redacting while `share` is on.
pub fn connect(
    context: &Context,
    share: &crate::redact::Share,
) -> Result<(Client, StreamHandle, Option<History>)> {
    let client = Client::new(context.endpoint.clone())
        .map_err(|e| eyre!(e))?
        .sharing(share.clone());
    let history = match &context.prometheus {
        Some(url) => Some(History::new(url).map_err(|e| eyre!(e))?),
        None => None,
    };
    let stream = client.stream(subscriptions());
    Ok((client, stream, history))
}

pub fn origin(context: &Context) -> Origin {
    Origin {
        context: context.name.clone(),
        url: context.endpoint.url.clone(),
        cluster: None,
        readonly: context.readonly,
    }
}

/// Asks the gateway who the cluster is, in the background; the answer
/// comes back tagged with the context it was asked of.
pub fn fetch_cluster(
    client: &Client,
    context: &str,
    answers: &mpsc::Sender<(String, ClusterInfo)>,
) {
    let (client, context, answers) = (client.clone(), context.to_string(), answers.clone());
    tokio::spawn(async move {
        match client.get::<ClusterInfo>("/api/v1/cluster").await {
            Ok(info) => {
                let _ = answers.send((context, info)).await;
            }
            Err(e) => tracing::warn!("cannot read the cluster's name: {e}"),
        }
    });
}
