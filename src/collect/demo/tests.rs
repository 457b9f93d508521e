use super::*;

fn run(config: DemoConfig, ticks: usize) -> Collected {
    let mut demo = DemoSource::new(config);
    let mut last = Collected::default();
    for i in 0..ticks {
        last = demo.collect(1_700_000_000_000 + i as i64 * 1000);
    }
    last
}

#[test]
fn same_seed_same_cluster() {
    let a = run(DemoConfig::default(), 50);
    let b = run(DemoConfig::default(), 50);
    assert_eq!(a.tasks, b.tasks);
    assert_eq!(a.nodes, b.nodes);
    let c = run(
        DemoConfig {
            seed: 7,
            ..Default::default()
        },
        50,
    );
    assert_ne!(a.tasks, c.tasks);
}

#[test]
fn scales_to_the_requested_size() {
    let big = run(
        DemoConfig {
            seed: 1,
            nodes: 1000,
            tasks: 10_000,
            ..Default::default()
        },
        1,
    );
    assert_eq!(big.nodes.len(), 1000);
    assert!(big.tasks.len() >= 10_000, "{}", big.tasks.len());
    assert_eq!(big.nodes.iter().filter(|n| n.role == "master").count(), 5);
}

#[test]
fn tasks_move_through_their_lifecycle_and_the_agent_flaps() {
    let mut demo = DemoSource::new(DemoConfig::default());
    let mut states = std::collections::BTreeSet::new();
    let mut flapped = false;
    for i in 0..400 {
        let c = demo.collect(1_700_000_000_000 + i * 1000);
        states.extend(c.tasks.iter().map(|t| t.state));
        flapped |= c.nodes.iter().any(|n| n.health == Health::Unhealthy);
    }
    for state in TaskState::ALL {
        assert!(states.contains(&state), "never saw {state:?}");
    }
    assert!(flapped, "the flapping agent never went away");
}
