//! The log-structure codec (`logs`): every gallery log round-trips bit-exactly and comes out
//! smaller than `zstd -19` and `xz -9` (the reference tools, required when MPQ_REQUIRE_TOOLS=1
//! as in CI); log-like lines made at random (templates, numbers, addresses, ids, stray bytes)
//! round-trip through every layout and back-end.

use std::io::Write;
use std::process::{Command, Stdio};

use mpq_codecs::text::logs::{self, Columns, Logs};
use mpq_core::{Codec, Media, Text, codec::parse_param_pairs};
use proptest::prelude::*;

const GALLERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/gallery/text");
const LOGS: [&str; 5] = ["logs/fail2ban-sshd.log", "logs/fail2ban-mail.log", "logs/http-access.log", "logs/apt-history.log", "dpkg-log.txt"];

fn encode(bytes: &[u8], params: &str) -> Vec<u8> {
    Logs.encode(&Media::Text(Text { bytes: bytes.to_vec() }), &parse_param_pairs(params.split(',')).unwrap()).unwrap()
}

fn decode(stream: &[u8]) -> Vec<u8> {
    Logs.decode(stream).unwrap().into_text().unwrap().bytes
}

/// The tool's output size on `input`, or None where the tool is missing (a failure when
/// MPQ_REQUIRE_TOOLS=1).
fn tool_size(name: &str, args: &[&str], input: &[u8]) -> Option<usize> {
    let child = Command::new(name).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let Ok(mut child) = child else {
        assert_ne!(std::env::var("MPQ_REQUIRE_TOOLS").as_deref(), Ok("1"), "{name} is required (MPQ_REQUIRE_TOOLS=1)");
        return None;
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    Some(out.stdout.len())
}

#[test]
fn gallery_logs_round_trip_and_beat_zstd_19_and_xz_9() {
    for name in LOGS {
        let text = std::fs::read(format!("{GALLERY}/{name}")).unwrap();
        let stream = encode(&text, "");
        assert_eq!(decode(&stream), text, "{name}");
        let (backend, layout, len) = logs::describe(&stream).unwrap();
        assert_eq!(len, text.len());
        for (tool, args) in [("zstd", &["-19", "-c", "-q"][..]), ("xz", &["-9", "-c"][..])] {
            if let Some(theirs) = tool_size(tool, args, &text) {
                assert!(stream.len() < theirs, "{name}: logs ({backend}, layout {layout}) {} bytes, {tool} {args:?} {theirs}", stream.len());
            }
        }
        // Each back-end on its own reads back too.
        for b in logs::BACKENDS {
            let s = encode(&text, &format!("backend={}", b.0));
            assert_eq!(decode(&s), text, "{name} through {}", b.0);
        }
    }
}

#[test]
fn the_access_log_is_smallest_in_columns() {
    // Where lines repeat a few templates with numbers in them, the columns beat the plain text
    // through the same back-end (the layout byte says which was kept).
    let text = std::fs::read(format!("{GALLERY}/logs/http-access.log")).unwrap();
    for b in ["xz", "ppmd"] {
        let (_, layout, _) = logs::describe(&encode(&text, &format!("backend={b}"))).unwrap();
        assert_ne!(layout, 0, "{b}");
    }
}

/// A log line from pieces: a timestamp, a host, a program with a pid, one of a few messages with
/// numbers, addresses and ids in them, and now and then a stray byte (a zero, a high byte, a CR).
fn line() -> impl Strategy<Value = Vec<u8>> {
    (0u32..86_400, 0usize..3, 0u32..70_000, 0usize..5, any::<[u8; 4]>(), 0u64..u64::MAX, prop::option::weighted(0.1, any::<u8>()))
        .prop_map(|(t, host, pid, msg, ip, id, stray)| {
            let hosts = ["web1", "db-2", "cache"];
            let msgs = [
                format!("Accepted password for admin from {}.{}.{}.{} port {}", ip[0], ip[1], ip[2], ip[3], pid % 65536),
                format!("request id={id:x} took {} ms", pid % 997),
                "connection closed".to_string(),
                format!("user{} logged out after {}s", ip[0], t % 3600),
                format!("value {:019} width {:03}", id % 10_000_000_000_000_000_000, ip[1]),
            ];
            let mut l = format!("Dec  7 {:02}:{:02}:{:02} {} sshd[{pid}]: {}", t / 3600, t / 60 % 60, t % 60, hosts[host], msgs[msg]).into_bytes();
            if let Some(b) = stray {
                let at = (id as usize) % (l.len() + 1);
                l.insert(at, b);
            }
            l
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn log_like_lines_round_trip(lines in prop::collection::vec(line(), 0..60), newline_at_end in any::<bool>()) {
        let mut text = lines.join(&b'\n');
        if newline_at_end {
            text.push(b'\n');
        }
        for how in [Columns::PerTemplate, Columns::PerPosition] {
            prop_assert_eq!(logs::from_columns(&logs::columns(&text, how), text.len(), how).unwrap(), text.clone());
        }
        prop_assert_eq!(decode(&encode(&text, "backend=zstd")), text);
    }
}
