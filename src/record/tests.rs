use std::io::Write;
use std::path::PathBuf;

use super::format::{Header, MAGIC, VERSION, What};
use super::reader::Recording;
use super::writer::{Recorder, part_path};
use crate::api::{Event, LogEntry, Op, Record, ServerMsg};

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-rec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn header() -> Header {
    Header {
        format: MAGIC.into(),
        version: VERSION,
        written_by: "test".into(),
        gateway: "http://127.0.0.1:1".into(),
        context: None,
        subscriptions: Vec::new(),
        redaction: "none".into(),
        started: 1_000,
        since: None,
        part: 1,
    }
}

fn line(n: u64) -> ServerMsg {
    ServerMsg::Event {
        sub: "logs".into(),
        events: vec![Event {
            seq: n,
            op: Op::Added,
            data: Record::Log(crate::collect::logline::entry(
                format!("t:{n}"),
                n as i64,
                "node",
                format!("line {n}").as_bytes(),
            )),
        }],
    }
}

fn message_of(what: &What) -> Option<String> {
    match what {
        What::Msg(ServerMsg::Event { events, .. }) => match &events[0].data {
            Record::Log(LogEntry { message, .. }) => Some(message.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn a_recording_reads_back_every_entry_in_order_with_its_marks_and_a_keyframe() {
    let dir = dir("round");
    let path = dir.join("r.d2rec");
    let recorder = Recorder::create(&path, header(), u64::MAX).unwrap();
    for n in 1..=500 {
        assert!(recorder.record(n as i64, What::Msg(line(n))));
        if n == 250 {
            recorder.record(n as i64, What::Mark("the deploy".into()));
        }
    }
    recorder.finish().unwrap();
    let recording = Recording::open(&path).unwrap();
    assert_eq!(recording.header, header());
    assert_eq!(recording.cut_short, None);
    assert_eq!(recording.span(), Some((1, 500)));
    let marks: Vec<_> = recording.marks().cloned().collect();
    assert_eq!(marks, [(250, "the deploy".to_string())]);
    assert!(recording.chunks[0].keyframe, "it begins with a keyframe");
    let lines: Vec<String> = recording
        .entries(0)
        .filter_map(|e| message_of(&e.what))
        .collect();
    assert_eq!(
        lines,
        (1..=500).map(|n| format!("line {n}")).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_cut_short_reads_up_to_its_last_whole_chunk() {
    let dir = dir("cut");
    let path = dir.join("r.d2rec");
    let recorder = Recorder::create(&path, header(), u64::MAX).unwrap();
    for n in 1..=100 {
        recorder.record(n as i64, What::Msg(line(n)));
    }
    recorder.finish().unwrap();
    let whole = std::fs::read(&path).unwrap();
    // A second recording: the first one's bytes, then half of one more
    // chunk, as when the recorder is killed while it writes.
    let mut extra = Vec::new();
    {
        let mut gz = flate2::write::GzEncoder::new(&mut extra, flate2::Compression::fast());
        let entry = super::format::Entry {
            t: 101,
            what: What::Msg(line(101)),
        };
        serde_json::to_writer(&mut gz, &entry).unwrap();
        gz.write_all(b"\n").unwrap();
        gz.finish().unwrap();
    }
    let cut = dir.join("cut.d2rec");
    let mut bytes = whole.clone();
    bytes.extend_from_slice(&extra[..extra.len() / 2]);
    std::fs::write(&cut, &bytes).unwrap();
    let recording = Recording::open(&cut).unwrap();
    let why = recording
        .cut_short
        .clone()
        .expect("it says it was cut short");
    assert!(why.contains("cut short"), "{why}");
    let read = recording
        .entries(0)
        .filter_map(|e| message_of(&e.what))
        .count();
    assert_eq!(read, 100, "every whole chunk is read");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_newer_format_is_refused_saying_so_and_other_files_are_not_recordings() {
    let dir = dir("newer");
    let path = dir.join("new.d2rec");
    let mut newer = header();
    newer.version = VERSION + 1;
    Recorder::create(&path, newer, u64::MAX)
        .unwrap()
        .finish()
        .unwrap();
    let refused = Recording::open(&path).err().unwrap();
    assert!(refused.contains("newer day2top"), "{refused}");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let refused = Recording::open(&text).err().unwrap();
    assert!(refused.contains("is not a day2top recording"), "{refused}");
    // Nor is an existing file ever overwritten.
    let again = Recorder::create(&path, header(), u64::MAX).err().unwrap();
    assert!(again.contains("already exists"), "{again}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn past_its_size_a_recording_goes_on_in_a_new_part_each_with_a_header() {
    let dir = dir("parts");
    let path = dir.join("r.d2rec");
    // A part is closed at a keyframe once it is past its size: here 1
    // byte, so the first keyframe already begins part 2.
    let recorder = Recorder::create(&path, header(), 1).unwrap();
    for n in 1..=10 {
        recorder.record(n as i64, What::Msg(line(n)));
    }
    recorder.finish().unwrap();
    assert!(part_path(&path, 2).exists(), "a second part");
    let recording = Recording::open(&path).unwrap();
    assert_eq!(recording.chunks.first().map(|c| c.part), Some(2));
    let read = recording
        .entries(0)
        .filter_map(|e| message_of(&e.what))
        .count();
    assert_eq!(read, 10);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_keyframe_holds_what_a_client_would() {
    let mut states = super::state::States::default();
    for n in 1..=3 {
        states.apply(&line(n));
    }
    states.apply(&ServerMsg::Resync { sub: "logs".into() });
    states.apply(&line(4));
    let frame = states.keyframe();
    let [
        ServerMsg::Snapshot {
            sub, seq, items, ..
        },
    ] = frame.as_slice()
    else {
        panic!("one snapshot: {frame:?}")
    };
    assert_eq!((sub.as_str(), *seq, items.len()), ("logs", 4, 1));
}

#[test]
fn a_keyframe_holds_the_newest_traces_only() {
    let mut states = super::state::States::default();
    let n = super::state::TRACES as u64 * 2;
    for i in 0..n {
        let trace: crate::api::TraceSummary = serde_json::from_value(serde_json::json!({
            "trace_id": format!("{i:032x}"), "root_service": "s", "root_operation": "o",
            "start": i * 1_000_000, "duration": 1, "spans": 1, "services": ["s"], "errors": 0
        }))
        .unwrap();
        states.apply(&ServerMsg::Event {
            sub: "traces".into(),
            events: vec![crate::api::Event {
                seq: i + 1,
                op: crate::api::Op::Added,
                data: crate::api::Record::Trace(trace),
            }],
        });
    }
    let frame = states.keyframe();
    let ServerMsg::Snapshot { items, .. } = &frame[0] else {
        panic!("a snapshot: {frame:?}")
    };
    assert!(items.len() <= super::state::TRACES + super::state::TRACES / 8);
    let oldest = items
        .iter()
        .filter_map(|r| match r {
            crate::api::Record::Trace(t) => Some(t.start),
            _ => None,
        })
        .min()
        .unwrap();
    assert!(
        oldest >= (n - items.len() as u64) * 1_000_000,
        "the newest kept"
    );
}

#[test]
fn a_keyframe_keeps_the_points_its_subscription_asked_for() {
    use crate::api::{Filter, Sample, Topic};
    let subs = [super::format::RecordedSub {
        sub: "m".into(),
        topic: Topic::Metrics,
        filter: Filter {
            points: Some(5),
            ..Default::default()
        },
    }];
    let mut states = super::state::States::new(&subs);
    for n in 1..=10u64 {
        states.apply(&ServerMsg::Event {
            sub: "m".into(),
            events: vec![Event {
                seq: n,
                op: Op::Added,
                data: Record::Sample(Sample {
                    name: "cpu".into(),
                    tags: Default::default(),
                    ts: n as i64,
                    value: n as f64,
                    unit: String::new(),
                }),
            }],
        });
    }
    let frame = states.keyframe();
    let [ServerMsg::Snapshot { items, .. }] = frame.as_slice() else {
        panic!("one snapshot: {frame:?}")
    };
    let [Record::Series(series)] = items.as_slice() else {
        panic!("one series: {items:?}")
    };
    let kept: Vec<i64> = series.points.iter().map(|(t, _)| *t).collect();
    assert_eq!(kept, [6, 7, 8, 9, 10], "the newest 5");
}

#[test]
fn a_player_leaves_one_subscriptions_events_unread_when_told() {
    let dir = dir("skip");
    let path = dir.join("r.d2rec");
    let recorder = Recorder::create(&path, header(), u64::MAX).unwrap();
    for n in 1..=50 {
        recorder.record(n as i64, What::Msg(line(n)));
    }
    recorder.record(51, What::Mark("end".into()));
    recorder.finish().unwrap();
    let mut player = super::player::Player::new(Recording::open(&path).unwrap(), 1.0);
    player.skip_events_of = Some("logs".into());
    let read = player.seek(51);
    assert!(
        read.iter().all(|e| message_of(&e.what).is_none()),
        "no line read"
    );
    assert!(read.iter().any(|e| e.what == What::Mark("end".into())));
    player.skip_events_of = None;
    let lines = player
        .seek(51)
        .iter()
        .filter(|e| message_of(&e.what).is_some())
        .count();
    assert_eq!(lines, 50);
    let _ = std::fs::remove_dir_all(dir);
}
