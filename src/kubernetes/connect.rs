//! Reaching the API server as `kubectl` does: the kubeconfig (`--kubeconfig`,
//! else `KUBECONFIG` with its several files merged, else `~/.kube/config`),
//! its context, user and TLS settings, exec credential plugins; or, in a
//! pod, the service account.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Where and what to watch: `--kube`'s flags.
#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `-n`: one namespace; neither this nor `all_namespaces`: the
    /// context's namespace, as `kubectl` does.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
}

pub struct Connected {
    pub client: kube::Client,
    /// The API server's URL.
    pub server: String,
    pub namespace: Option<String>,
    pub context: String,
}

pub async fn connect(options: &KubeOptions) -> Result<Connected, String> {
    // kube-rs builds its TLS on the process-wide provider: ring, as every
    // other connection of day2top (see `client::tls_config`).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let wanted = KubeConfigOptions {
        context: options.context.clone(),
        cluster: None,
        user: None,
    };
    let (config, context) = match &options.kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| format!("--kubeconfig {}: {e}", path.display()))?;
            let context = options.context.clone().or(file.current_context.clone());
            let config = kube::Config::from_custom_kubeconfig(file, &wanted)
                .await
                .map_err(|e| format!("--kubeconfig {}: {e}", path.display()))?;
            (config, context)
        }
        None => match Kubeconfig::read() {
            Ok(file) => {
                let context = options.context.clone().or(file.current_context.clone());
                let config = kube::Config::from_kubeconfig(&wanted)
                    .await
                    .map_err(|e| format!("kubeconfig: {e}"))?;
                (config, context)
            }
            // No kubeconfig: in a pod, its service account.
            Err(no_file) if options.context.is_none() => match kube::Config::incluster() {
                Ok(config) => (config, Some("in-cluster".into())),
                Err(e) => {
                    return Err(format!(
                        "no kubeconfig ({no_file}) and not in a pod ({e}): give --kubeconfig FILE or set KUBECONFIG"
                    ));
                }
            },
            Err(e) => return Err(format!("kubeconfig: {e}")),
        },
    };
    let namespace = if options.all_namespaces {
        None
    } else {
        Some(
            options
                .namespace
                .clone()
                .unwrap_or_else(|| config.default_namespace.clone()),
        )
    };
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config)
        .map_err(|e| format!("cannot make a Kubernetes client: {e}"))?;
    Ok(Connected {
        client,
        server,
        namespace,
        context: context.unwrap_or_else(|| "kubernetes".into()),
    })
}
