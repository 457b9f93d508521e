//! `day2top record`, `day2top replay` and `day2top bundle`: a recording
//! made without a screen, the console over one, and a diagnostics bundle
//! (which holds one).

use day2top::config::ConfigFile;
use day2top::tui::{self, ConsoleConfig};

use super::{command_client, console_theme, finish, log_to_file, stop};
use day2top::config;

pub async fn replay(args: crate::cli_args::ReplayArgs) -> Result<(), String> {
    let cfg = ConfigFile::load(args.config.as_deref())?;
    let recording = day2top::record::reader::Recording::open(&args.file)?;
    if recording.chunks.is_empty() {
        return Err(format!(
            "{} holds nothing to replay yet{}",
            args.file.display(),
            recording
                .cut_short
                .as_deref()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default()
        ));
    }
    let _log = log_to_file();
    let mut player = day2top::record::player::Player::new(recording, args.speed);
    player.follow_presenter = args.follow_presenter;
    let share = args.share.prepare(&cfg, Vec::new())?;
    let theme = console_theme(args.theme, &cfg, share.is_on());
    let console = ConsoleConfig {
        contexts: Vec::new(),
        initial: 0,
        theme,
        keymap: args
            .keymap
            .or(cfg.keymap)
            .unwrap_or_else(|| "default".into()),
        config_dir: config::config_dir(),
        log_lines: cfg
            .log_lines
            .unwrap_or(day2top::tui::logs::buffer::DEFAULT_MAX_ROWS),
        ascii: cfg.ascii.unwrap_or(false),
        share,
    };
    if let Some(out) = &args.asciicast {
        return asciicast(console, player, out, args.size);
    }
    tui::replay(console, player)
        .await
        .map_err(|e| format!("{e:#}"))
}

/// The replay written to an asciicast file, and what was written said.
fn asciicast(
    console: ConsoleConfig,
    player: day2top::record::player::Player,
    out: &std::path::Path,
    size: (u16, u16),
) -> Result<(), String> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!(
                    "{} exists; an export never overwrites a file",
                    out.display()
                )
            }
            _ => format!("cannot make {}: {e}", out.display()),
        })?;
    let mut writer = std::io::BufWriter::new(file);
    let written = tui::export_asciicast(console, player, &mut writer, size)?;
    eprintln!(
        "wrote {}: {:.0} s of recording, {} frames at {}x{} ({} events); play it with `asciinema play {}`",
        out.display(),
        written.seconds,
        written.frames,
        size.0,
        size.1,
        written.events,
        out.display()
    );
    Ok(())
}

/// What a recording or bundle says its data came from.
fn source_name(
    client: &day2top::client::Client,
    embedded: &Option<day2top::gateway::RunningGateway>,
    demo: bool,
) -> String {
    match embedded {
        Some(_) if demo => "an embedded demo gateway".to_string(),
        Some(_) => "an embedded gateway of this host".to_string(),
        None => client.url().to_string(),
    }
}

pub async fn bundle(args: crate::cli_args::BundleArgs) -> Result<i32, String> {
    let (client, embedded) = command_client(&args.connect, &args.sources).await?;
    let cfg = ConfigFile::load(args.connect.config.as_deref())?;
    let token = client.token().to_string();
    let settings = args.share.settings(&cfg, vec![token]);
    let config_redactor = day2top::redact::Redactor::new(&settings)?;
    let client = client.sharing(day2top::redact::Share::prepare(
        &settings,
        args.share.share,
    )?);
    let options = day2top::cli::bundle::BundleOptions {
        output: args.output,
        since: args.since,
        recording: !args.no_recording,
        gateway: source_name(&client, &embedded, args.sources.demo),
        context: args.connect.context.clone(),
        config: args.connect.config.clone(),
        config_redactor,
    };
    let result = day2top::cli::bundle::run(&client, options, &mut std::io::stderr()).await;
    stop(embedded).await;
    finish(result)
}

pub async fn record(args: crate::cli_args::RecordArgs) -> Result<i32, String> {
    let (client, embedded) = command_client(&args.connect, &args.sources).await?;
    let cfg = ConfigFile::load(args.connect.config.as_deref())?;
    let client = client.sharing(args.share.prepare(&cfg, Vec::new())?);
    let gateway = source_name(&client, &embedded, args.sources.demo);
    let options = day2top::cli::record::RecordOptions {
        output: args.output,
        duration: args.duration,
        since: args.since,
        part_bytes: args.part_mb.saturating_mul(1 << 20).max(1 << 20),
        gateway,
        context: args.connect.context.clone(),
    };
    let subscriptions = day2top::tui::connection::recorded_subscriptions();
    let result =
        day2top::cli::record::run(&client, subscriptions, options, &mut std::io::stderr()).await;
    stop(embedded).await;
    finish(result)
}
