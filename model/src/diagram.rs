//! Sequence diagrams of a path through a model: time flows down, the first lane
//! (the client, or general A) on the left, the second on the right.
//!
//! A model describes each step of a path as a list of [`Event`]s; this module
//! lays them out as text (for the terminal) and as SVG (for the Explorer and
//! for files). It knows nothing of TCP.

use serde::Serialize;

/// One of the two columns of the diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Lane {
    Left,
    Right,
}

impl Lane {
    pub fn other(self) -> Lane {
        match self {
            Lane::Left => Lane::Right,
            Lane::Right => Lane::Left,
        }
    }
}

/// Something that happened in one step, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Event {
    /// The lane's endpoint is now in `state` (e.g. "SYN-SENT").
    State { lane: Lane, state: String },
    /// A segment (or message) left `from`; `label` like "SYN seq=100".
    Send { from: Lane, label: String },
    /// A segment sent by `from` arrived at the other lane; `note` says what the
    /// receiver made of it when that is not obvious ("old duplicate", "ignored").
    Deliver {
        from: Lane,
        label: String,
        note: Option<String>,
    },
    /// The network lost a segment sent by `from`.
    Lost { from: Lane, label: String },
    /// The network duplicated a segment sent by `from`.
    Duplicated { from: Lane, label: String },
    /// A segment sent by `from` outlived the maximum segment lifetime and is gone.
    Expired { from: Lane, label: String },
    /// A user call, a timer firing, a crash: anything that happens at one lane.
    Note { lane: Lane, text: String },
    /// Time advanced; `now` is the new time in ticks.
    Tick { now: u32 },
}

/// What the runner and the diagrams need from a model beyond `stateright::Model`.
pub trait Diagram: stateright::Model {
    /// The two column headings, e.g. ("client", "server").
    fn lanes(&self) -> (&'static str, &'static str);

    /// The state each lane starts in, shown at the top of the diagram.
    fn initial_events(&self, state: &Self::State) -> Vec<Event>;

    /// What happened when `action` took `prev` to `next`.
    fn describe_step(
        &self,
        prev: &Self::State,
        action: &Self::Action,
        next: &Self::State,
    ) -> Vec<Event>;

    /// Each lane's state name, for the JSON trace (e.g. ("ESTABLISHED", "CLOSE-WAIT")).
    fn lane_states(&self, state: &Self::State) -> (String, String);
}

/// The events of a whole path: the lanes' initial states, then each step.
pub fn path_events<M: Diagram>(model: &M, path: &[(M::State, Option<M::Action>)]) -> Vec<Event> {
    let mut events = Vec::new();
    if let Some((first, _)) = path.first() {
        events.extend(model.initial_events(first));
    }
    for pair in path.windows(2) {
        if let (prev, Some(action)) = (&pair[0].0, &pair[0].1) {
            events.extend(model.describe_step(prev, action, &pair[1].0));
        }
    }
    events
}

/// The SVG diagram of a stateright path, for `Model::as_svg` (the Explorer).
pub fn svg<M: Diagram>(model: &M, path: &stateright::Path<M::State, M::Action>) -> String
where
    M::State: Clone,
    M::Action: Clone,
{
    let steps = path.clone().into_vec();
    svg_from_events(model.lanes(), &path_events(model, &steps))
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn repeat(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// Lays events out as text: one row per event, the left lane's column, the
/// wire between two bars, the right lane's column.
pub fn text(lanes: (&str, &str), events: &[Event]) -> String {
    let left_width = events
        .iter()
        .filter_map(|e| match e {
            Event::State {
                lane: Lane::Left,
                state,
            } => Some(width(state) + 2),
            Event::Note {
                lane: Lane::Left,
                text,
            } => Some(width(text)),
            Event::Deliver {
                from: Lane::Right,
                note: Some(note),
                ..
            } => Some(width(note) + 2),
            _ => None,
        })
        .chain([width(lanes.0), 10])
        .max()
        .unwrap_or(10);
    let wire_width = events
        .iter()
        .filter_map(|e| match e {
            Event::Send { label, .. }
            | Event::Deliver { label, .. }
            | Event::Lost { label, .. }
            | Event::Duplicated { label, .. }
            | Event::Expired { label, .. } => Some(width(label) + 18),
            _ => None,
        })
        .chain([40])
        .max()
        .unwrap_or(40);

    let mut out = String::new();
    let mut row = |left: &str, wire: &str, right: &str| {
        let pad = wire_width.saturating_sub(width(wire));
        let line = format!("{left:>left_width$} │{wire}{}│ {right}", repeat(' ', pad));
        out.push_str(line.trim_end());
        out.push('\n');
    };
    let centred = |s: &str| {
        let pad = wire_width.saturating_sub(width(s)) / 2;
        format!("{}{s}", repeat(' ', pad))
    };
    // Arrows for a segment leaving a lane stop halfway: it is in flight until
    // a later row shows it arriving (or lost, duplicated, expired).
    let half = wire_width / 2;
    let leaving = |from: Lane, label: &str| -> String {
        let body = width(label) + 2;
        let dashes = half.max(body + 3) - body - 1;
        match from {
            Lane::Left => format!("─ {label} {}▷", repeat('─', dashes)),
            Lane::Right => {
                let s = format!("◁{} {label} ─", repeat('─', dashes));
                format!("{}{s}", repeat(' ', wire_width.saturating_sub(width(&s))))
            }
        }
    };
    let arriving = |from: Lane, label: &str| -> String {
        let body = width(label) + 2;
        let dashes = half.max(body + 3) - body - 1;
        match from {
            Lane::Left => {
                let s = format!("{} {label} ─▶", repeat('─', dashes));
                format!("{}{s}", repeat(' ', wire_width.saturating_sub(width(&s))))
            }
            Lane::Right => format!("◀─ {label} {}", repeat('─', dashes)),
        }
    };

    row(lanes.0, &repeat(' ', wire_width), lanes.1);
    for event in events {
        match event {
            Event::State { lane, state } => {
                let s = format!("[{state}]");
                match lane {
                    Lane::Left => row(&s, "", ""),
                    Lane::Right => row("", "", &s),
                }
            }
            Event::Note { lane, text } => match lane {
                Lane::Left => row(text, "", ""),
                Lane::Right => row("", "", text),
            },
            Event::Send { from, label } => row("", &leaving(*from, label), ""),
            Event::Deliver { from, label, note } => {
                let note = note
                    .as_deref()
                    .map(|n| format!("({n})"))
                    .unwrap_or_default();
                match from {
                    Lane::Left => row("", &arriving(*from, label), &note),
                    Lane::Right => row(&note, &arriving(*from, label), ""),
                }
            }
            Event::Lost { label, .. } => row("", &centred(&format!("✗ lost: {label}")), ""),
            Event::Duplicated { label, .. } => {
                row("", &centred(&format!("×2 duplicated: {label}")), "")
            }
            Event::Expired { label, .. } => {
                row("", &centred(&format!("† expired (MSL): {label}")), "")
            }
            Event::Tick { now } => {
                let mark = format!(" t={now} ");
                let side = wire_width.saturating_sub(width(&mark));
                let wire = format!(
                    "{}{mark}{}",
                    repeat('┄', side / 2),
                    repeat('┄', side - side / 2)
                );
                row("", &wire, "");
            }
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Lays events out as a standalone SVG: two lifelines, each segment drawn as
/// a slanted arrow from the row where it was sent to the row where it arrived
/// (or to the middle, marked, where it was lost or expired or is still in flight).
/// All styles are inline so the file renders anywhere, not only in the Explorer.
pub fn svg_from_events(lanes: (&str, &str), events: &[Event]) -> String {
    const ROW: f64 = 22.0;
    const TOP: f64 = 46.0;
    const CHAR: f64 = 7.3; // width of a 12px monospace character
                           // Notes and delivery remarks beside a lifeline set the margins, so that
                           // no text runs off the picture.
    let beside = |lane: Lane| {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Note { lane: l, text } if *l == lane => Some(width(text)),
                Event::Deliver {
                    from,
                    note: Some(n),
                    ..
                } if from.other() == lane => Some(width(n) + 2),
                _ => None,
            })
            .max()
            .unwrap_or(0) as f64
    };
    let left_x: f64 = (CHAR * beside(Lane::Left) + 24.0).max(170.0);
    let right_x: f64 = left_x + 420.0;
    let total_width: f64 = right_x + (CHAR * beside(Lane::Right) + 24.0).max(170.0);
    let mid_x: f64 = (left_x + right_x) / 2.0;
    let lane_x = |lane: Lane| match lane {
        Lane::Left => left_x,
        Lane::Right => right_x,
    };
    let colour = |lane: Lane| match lane {
        Lane::Left => "#1f5fa8",
        Lane::Right => "#2e7d32",
    };
    let y_of = |row: usize| TOP + ROW * (row as f64 + 0.5);

    let mut body = String::new();
    // Segments in flight: (from, label, row it was sent at).
    let mut in_flight: Vec<(Lane, &str, usize)> = Vec::new();
    fn take(in_flight: &mut Vec<(Lane, &str, usize)>, from: Lane, label: &str) -> Option<usize> {
        let at = in_flight
            .iter()
            .position(|(f, l, _)| *f == from && *l == label)?;
        Some(in_flight.remove(at).2)
    }
    let arrow = |body: &mut String,
                 from: Lane,
                 x2: f64,
                 y1: f64,
                 y2: f64,
                 label: &str,
                 dashed: bool| {
        let x1 = lane_x(from);
        let c = colour(from);
        let dash = if dashed {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let marker = if dashed {
            ""
        } else {
            " marker-end=\"url(#arrow)\""
        };
        body.push_str(&format!(
            "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{c}\" stroke-width=\"1.5\"{dash}{marker}/>\n"
        ));
        // The label sits on a white box at the arrow's midpoint, so the line
        // never runs through its letters.
        let (tx, ty) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
        let w = 7.3 * width(label) as f64 + 6.0;
        body.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"15\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>\n\
             <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-family=\"monospace\" font-size=\"12\" fill=\"{c}\">{}</text>\n",
            tx - w / 2.0,
            ty - 7.5,
            xml_escape(label)
        ));
    };
    let text_at = |body: &mut String,
                   x: f64,
                   y: f64,
                   anchor: &str,
                   fill: &str,
                   style: &str,
                   s: &str| {
        body.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" dominant-baseline=\"middle\" font-family=\"monospace\" font-size=\"12\" fill=\"{fill}\"{style}>{}</text>\n",
            xml_escape(s)
        ));
    };

    for (row, event) in events.iter().enumerate() {
        let y = y_of(row);
        match event {
            Event::State { lane, state } => {
                let x = lane_x(*lane);
                let w = 9.0 + 7.3 * width(state) as f64;
                body.push_str(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"18\" rx=\"4\" fill=\"#fff8e1\" stroke=\"#8d6e63\"/>\n",
                    x - w / 2.0,
                    y - 9.0
                ));
                text_at(
                    &mut body,
                    x,
                    y,
                    "middle",
                    "#3e2723",
                    " font-weight=\"bold\"",
                    state,
                );
            }
            Event::Note { lane, text } => {
                let (x, anchor) = match lane {
                    Lane::Left => (left_x - 10.0, "end"),
                    Lane::Right => (right_x + 10.0, "start"),
                };
                text_at(
                    &mut body,
                    x,
                    y,
                    anchor,
                    "#555555",
                    " font-style=\"italic\"",
                    text,
                );
            }
            Event::Send { from, label } => in_flight.push((*from, label, row)),
            Event::Duplicated { from, label } => {
                let sent = in_flight
                    .iter()
                    .rev()
                    .find(|(f, l, _)| f == from && l == label)
                    .map(|(_, _, r)| *r)
                    .unwrap_or(row);
                in_flight.push((*from, label, sent));
                text_at(
                    &mut body,
                    mid_x,
                    y,
                    "middle",
                    "#6a1b9a",
                    "",
                    &format!("×2 duplicated: {label}"),
                );
            }
            Event::Deliver { from, label, note } => {
                let sent = take(&mut in_flight, *from, label).unwrap_or(row);
                arrow(
                    &mut body,
                    *from,
                    lane_x(from.other()),
                    y_of(sent),
                    y,
                    label,
                    false,
                );
                if let Some(note) = note {
                    let (x, anchor) = match from.other() {
                        Lane::Left => (left_x - 10.0, "end"),
                        Lane::Right => (right_x + 10.0, "start"),
                    };
                    text_at(&mut body, x, y, anchor, "#b71c1c", "", &format!("({note})"));
                }
            }
            Event::Lost { from, label } | Event::Expired { from, label } => {
                let sent = take(&mut in_flight, *from, label).unwrap_or(row);
                arrow(&mut body, *from, mid_x, y_of(sent), y, label, true);
                let what = if matches!(event, Event::Lost { .. }) {
                    "✗ lost"
                } else {
                    "† expired"
                };
                text_at(
                    &mut body,
                    mid_x + 6.0,
                    y,
                    "start",
                    "#b71c1c",
                    " font-weight=\"bold\"",
                    what,
                );
            }
            Event::Tick { now } => {
                body.push_str(&format!(
                    "<line x1=\"20\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#bbbbbb\" stroke-dasharray=\"2 3\"/>\n",
                    total_width - 20.0
                ));
                text_at(
                    &mut body,
                    22.0,
                    y - 7.0,
                    "start",
                    "#888888",
                    "",
                    &format!("t={now}"),
                );
            }
        }
    }
    let rows = events.len();
    for (from, label, sent) in in_flight {
        arrow(
            &mut body,
            from,
            mid_x,
            y_of(sent),
            y_of(rows),
            &format!("{label} (in flight)"),
            true,
        );
    }

    // One spare row below the last event for arrows still in flight.
    let height = TOP + ROW * (rows as f64 + 2.5);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{total_width}\" height=\"{height}\" viewBox=\"0 0 {total_width} {height}\">\n\
         <defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\" refY=\"4\" orient=\"auto\" markerUnits=\"userSpaceOnUse\"><polygon points=\"0 0, 10 4, 0 8\" fill=\"#333333\"/></marker></defs>\n\
         <rect x=\"0\" y=\"0\" width=\"{total_width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"
    );
    for (lane, name) in [(Lane::Left, lanes.0), (Lane::Right, lanes.1)] {
        let x = lane_x(lane);
        out.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>\n",
            TOP - 8.0,
            height - 10.0,
            colour(lane)
        ));
        out.push_str(&format!(
            "<text x=\"{x}\" y=\"24\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"15\" font-weight=\"bold\" fill=\"{}\">{}</text>\n",
            colour(lane),
            xml_escape(name)
        ));
    }
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> Vec<Event> {
        let s = |lane, state: &str| Event::State {
            lane,
            state: state.into(),
        };
        vec![
            s(Lane::Left, "CLOSED"),
            s(Lane::Right, "LISTEN"),
            Event::Note {
                lane: Lane::Left,
                text: "OPEN".into(),
            },
            Event::Send {
                from: Lane::Left,
                label: "SYN seq=0".into(),
            },
            s(Lane::Left, "SYN-SENT"),
            Event::Duplicated {
                from: Lane::Left,
                label: "SYN seq=0".into(),
            },
            Event::Deliver {
                from: Lane::Left,
                label: "SYN seq=0".into(),
                note: None,
            },
            Event::Send {
                from: Lane::Right,
                label: "SYN,ACK seq=3 ack=1".into(),
            },
            s(Lane::Right, "SYN-RECEIVED"),
            Event::Tick { now: 1 },
            Event::Lost {
                from: Lane::Right,
                label: "SYN,ACK seq=3 ack=1".into(),
            },
            Event::Expired {
                from: Lane::Left,
                label: "SYN seq=0".into(),
            },
        ]
    }

    #[test]
    fn text_puts_each_event_on_its_own_row_in_the_right_column() {
        let out = text(("client", "server"), &handshake());
        println!("{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1 + handshake().len(), "{out}");
        assert!(lines[0].trim_start().starts_with("client") && lines[0].ends_with("server"));
        // The client's states sit left of the first bar, the server's right of the second.
        let bar = lines[1].find('│').unwrap();
        assert!(lines[1][..bar].contains("[CLOSED]"));
        assert!(lines[2].ends_with("│ [LISTEN]"));
        // A segment leaving the client points right from the left bar; arriving, it reaches the right bar.
        assert!(
            lines[4].contains("│─ SYN seq=0 ─") && lines[4].contains('▷'),
            "{out}"
        );
        assert!(lines[7].contains("─ SYN seq=0 ─▶│"), "{out}");
        assert!(
            lines[8].contains("◁─") && lines[8].contains("SYN,ACK seq=3 ack=1 ─│"),
            "{out}"
        );
        assert!(lines[10].contains("t=1"));
        assert!(lines[11].contains("✗ lost: SYN,ACK"));
        assert!(lines[12].contains("expired"));
        // Every row has both bars at the same column (chars, not bytes).
        let bars: Vec<usize> = lines[1..]
            .iter()
            .map(|l| l.chars().position(|c| c == '│' || c == '┆').unwrap())
            .collect();
        assert!(bars.windows(2).all(|w| w[0] == w[1]), "{out}");
    }

    #[test]
    fn svg_is_standalone_and_draws_every_segment() {
        let out = svg_from_events(("client", "server"), &handshake());
        assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(out.contains("viewBox=\"0 0 760 "));
        assert!(out.trim_end().ends_with("</svg>"));
        // Delivered SYN: one solid arrow; the duplicate expired, the SYN-ACK lost:
        // two dashed lines; and no class-based styling the Explorer would have to supply.
        assert_eq!(out.matches("marker-end=\"url(#arrow)\"").count(), 1);
        assert_eq!(out.matches("stroke-dasharray=\"5 4\"").count(), 2);
        assert!(!out.contains("class="));
        assert!(out.contains("✗ lost") && out.contains("† expired"));
        assert!(out.contains("SYN,ACK seq=3 ack=1"));
    }
}
