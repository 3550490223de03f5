//! From script text to [`Script`]: comments, preprocessor, skipped blocks,
//! header lines, then one event per logical line.

use std::collections::BTreeSet;
use std::fmt;

use super::ast::*;
use super::lexer::{LexError, Lexer, Token};

/// A malformed script: `FILE:LINE: what was expected`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The parser wanted `expected` and found `found`.
    Expected {
        expected: String,
        found: String,
    },
    Lex(LexError),
    /// A block comment, backquoted command, `%{` block or string left open at end of file.
    Unterminated(&'static str),
    /// `#else`/`#endif` without `#ifdef`, or `#ifdef` without `#endif`.
    Conditional(String),
    /// A value that parsed but is out of range or inconsistent.
    Invalid(String),
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ParseErrorKind::Lex(e) => write!(f, "{e}"),
            ParseErrorKind::Unterminated(what) => write!(f, "unterminated {what}"),
            ParseErrorKind::Conditional(m) => f.write_str(m),
            ParseErrorKind::Invalid(m) => f.write_str(m),
        }
    }
}

type LineResult<T> = Result<T, ParseErrorKind>;

fn expected<T>(what: &str, found: Option<&Token>) -> LineResult<T> {
    Err(ParseErrorKind::Expected {
        expected: what.to_string(),
        found: found.map_or_else(|| "end of line".to_string(), |t| t.to_string()),
    })
}

/// Parse `text` (named `file` in errors) with the given `--define` names.
pub fn parse(file: &str, text: &str, defines: &BTreeSet<String>) -> Result<Script, ParseError> {
    let err = |line: usize, kind: ParseErrorKind| ParseError {
        file: file.to_string(),
        line,
        kind,
    };
    let lines = logical_lines(text).map_err(|(line, kind)| err(line, kind))?;
    let mut script = Script::default();
    // Each open #ifdef: (was the enclosing region active, is this branch active, seen #else, line).
    let mut conds: Vec<(bool, bool, bool, usize)> = Vec::new();
    for (line, text) in lines {
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        let active = conds.last().is_none_or(|c| c.1);
        if let Some(directive) = t.strip_prefix('#') {
            let mut words = directive.split_whitespace();
            let name = words.next().unwrap_or("");
            let arg = words.next();
            let extra = words.next();
            match (name, arg, extra) {
                ("ifdef" | "ifndef", Some(sym), None) => {
                    let defined = defines.contains(sym);
                    let take = if name == "ifdef" { defined } else { !defined };
                    conds.push((active, active && take, false, line));
                }
                ("ifdef" | "ifndef", _, _) => {
                    return Err(err(
                        line,
                        ParseErrorKind::Expected {
                            expected: format!("one name after `#{name}`"),
                            found: format!("`{t}`"),
                        },
                    ))
                }
                ("else", None, None) => match conds.last_mut() {
                    Some(c) if !c.2 => {
                        c.2 = true;
                        c.1 = c.0 && !c.1;
                    }
                    Some(_) => {
                        return Err(err(
                            line,
                            ParseErrorKind::Conditional("a second `#else` for one `#ifdef`".into()),
                        ))
                    }
                    None => {
                        return Err(err(
                            line,
                            ParseErrorKind::Conditional("`#else` without `#ifdef`".into()),
                        ))
                    }
                },
                ("endif", None, None) => {
                    if conds.pop().is_none() {
                        return Err(err(
                            line,
                            ParseErrorKind::Conditional("`#endif` without `#ifdef`".into()),
                        ));
                    }
                }
                _ => {
                    return Err(err(
                        line,
                        ParseErrorKind::Expected {
                            expected: "`#ifdef NAME`, `#ifndef NAME`, `#else` or `#endif`".into(),
                            found: format!("`{t}`"),
                        },
                    ))
                }
            }
            continue;
        }
        if !active {
            continue;
        }
        if let Some(h) = t.strip_prefix("--") {
            let (name, value) = match h.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
                None => (h.trim(), None),
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(err(
                    line,
                    ParseErrorKind::Expected {
                        expected: "a header line `--name=value`".into(),
                        found: format!("`{t}`"),
                    },
                ));
            }
            script.headers.push(Header {
                line,
                name: name.to_string(),
                value,
            });
            continue;
        }
        let event = parse_event(t).map_err(|k| err(line, k))?;
        match event.1 {
            EventKind::Shell => script.skipped.shell_commands += 1,
            EventKind::CodeBlock => script.skipped.code_blocks += 1,
            _ => {}
        }
        script.events.push(Event {
            line,
            time: event.0,
            kind: event.1,
        });
    }
    if let Some(c) = conds.last() {
        return Err(err(
            c.3,
            ParseErrorKind::Conditional("`#ifdef` without `#endif`".into()),
        ));
    }
    Ok(script)
}

/// Split the text into logical lines with their starting line numbers: comments
/// removed, each backquoted command collapsed to ``` `` ``` and each code block to
/// `%{}%` (both may span lines), so that later stages see one event per line.
fn logical_lines(text: &str) -> Result<Vec<(usize, String)>, (usize, ParseErrorKind)> {
    #[derive(PartialEq)]
    enum Mode {
        Normal,
        LineComment,
        BlockComment(usize),
        Backquote(usize),
        Code(usize),
        Quote(usize),
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_line = 1;
    let mut line = 1;
    let mut mode = Mode::Normal;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        // A logical line is numbered after its first visible character, so an
        // event right after a multi-line comment reports its own line.
        if mode == Mode::Normal
            && !c.is_whitespace()
            && !(c == '/' && matches!(next, Some('/') | Some('*')))
            && cur.trim().is_empty()
        {
            cur_line = line;
        }
        match mode {
            Mode::Normal => match (c, next) {
                ('/', Some('/')) => {
                    chars.next();
                    mode = Mode::LineComment;
                }
                ('/', Some('*')) => {
                    chars.next();
                    mode = Mode::BlockComment(line);
                    cur.push(' ');
                }
                ('`', _) => mode = Mode::Backquote(line),
                ('%', Some('{')) => {
                    chars.next();
                    mode = Mode::Code(line);
                }
                ('"', _) => {
                    cur.push(c);
                    mode = Mode::Quote(line);
                }
                ('\n', _) => {
                    out.push((cur_line, std::mem::take(&mut cur)));
                    line += 1;
                    cur_line = line;
                }
                _ => cur.push(c),
            },
            Mode::LineComment => {
                if c == '\n' {
                    out.push((cur_line, std::mem::take(&mut cur)));
                    line += 1;
                    cur_line = line;
                    mode = Mode::Normal;
                }
            }
            Mode::BlockComment(_) => {
                if c == '\n' {
                    line += 1;
                } else if c == '*' && next == Some('/') {
                    chars.next();
                    mode = Mode::Normal;
                }
            }
            Mode::Backquote(_) => {
                if c == '\n' {
                    line += 1;
                } else if c == '`' {
                    cur.push_str("``");
                    mode = Mode::Normal;
                }
            }
            Mode::Code(_) => {
                if c == '\n' {
                    line += 1;
                } else if c == '}' && next == Some('%') {
                    chars.next();
                    cur.push_str("%{}%");
                    mode = Mode::Normal;
                }
            }
            Mode::Quote(start) => {
                if c == '\n' {
                    return Err((start, ParseErrorKind::Unterminated("string")));
                }
                cur.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        if n == '\n' {
                            return Err((start, ParseErrorKind::Unterminated("string")));
                        }
                        cur.push(n);
                    }
                } else if c == '"' {
                    mode = Mode::Normal;
                }
            }
        }
    }
    match mode {
        Mode::Normal | Mode::LineComment => {}
        Mode::BlockComment(l) => return Err((l, ParseErrorKind::Unterminated("`/*` comment"))),
        Mode::Backquote(l) => {
            return Err((l, ParseErrorKind::Unterminated("backquoted shell command")))
        }
        Mode::Code(l) => return Err((l, ParseErrorKind::Unterminated("`%{` code block"))),
        Mode::Quote(l) => return Err((l, ParseErrorKind::Unterminated("string"))),
    }
    out.push((cur_line, cur));
    Ok(out)
}

/// One event line (comments already gone).
fn parse_event(text: &str) -> LineResult<(TimeSpec, EventKind)> {
    let mut lx = Lexer::new(text);
    let rest = lx.rest();
    let time = if rest.starts_with('`') || rest.starts_with("%{") {
        // packetdrill allows shell commands and code blocks without a time column.
        TimeSpec::At(TimePoint::Relative(0))
    } else {
        let word = lx.word().unwrap_or("");
        parse_time(word)?
    };
    let rest = lx.rest();
    if rest == "``" {
        return Ok((time, EventKind::Shell));
    }
    if rest == "%{}%" {
        return Ok((time, EventKind::CodeBlock));
    }
    if rest.starts_with("``") || rest.starts_with("%{}%") {
        return Err(ParseErrorKind::Expected {
            expected: "end of line after the skipped block".into(),
            found: format!(
                "`{}`",
                rest.trim_start_matches('`').trim_start_matches("%{}%")
            ),
        });
    }
    match lx.peek().map_err(ParseErrorKind::Lex)? {
        Some(Token::Punct('<')) => {
            lx.advance(1);
            parse_packet(&mut lx, Direction::Inbound).map(|p| (time, EventKind::Packet(p)))
        }
        Some(Token::Punct('>')) => {
            lx.advance(1);
            let optional = lx.rest().starts_with('?');
            if optional {
                lx.advance(1);
            }
            parse_packet(&mut lx, Direction::Outbound).map(|mut p| {
                p.optional = optional;
                (time, EventKind::Packet(p))
            })
        }
        Some(Token::Ident(_)) => parse_syscall(&mut lx).map(|s| (time, EventKind::Syscall(s))),
        other => expected(
            "`<`, `>`, a system call, a backquoted command or `%{ }%` after the time",
            other.as_ref(),
        ),
    }
}

/// Seconds with up to six decimals, as microseconds.
fn parse_seconds(s: &str) -> LineResult<u64> {
    let bad = || {
        Err(ParseErrorKind::Expected {
            expected: "a time in seconds such as `0.100` or `+0.1`".into(),
            found: format!("`{s}`"),
        })
    };
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if (whole.is_empty() && frac.is_empty())
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return bad();
    }
    if frac.len() > 6 {
        return Err(ParseErrorKind::Invalid(format!(
            "time `{s}` is finer than a microsecond"
        )));
    }
    let w: u64 = if whole.is_empty() {
        0
    } else {
        match whole.parse() {
            Ok(w) => w,
            Err(_) => return bad(),
        }
    };
    let mut f: u64 = 0;
    for (i, d) in frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(6)
        .enumerate()
    {
        let _ = i;
        f = f * 10 + u64::from(d.to_digit(10).unwrap_or(0));
    }
    w.checked_mul(1_000_000)
        .and_then(|w| w.checked_add(f))
        .map_or_else(
            || Err(ParseErrorKind::Invalid(format!("time `{s}` is too large"))),
            Ok,
        )
}

fn parse_point(s: &str) -> LineResult<TimePoint> {
    match s.strip_prefix('+') {
        Some(r) => parse_seconds(r).map(TimePoint::Relative),
        None => parse_seconds(s).map(TimePoint::Absolute),
    }
}

fn parse_time(word: &str) -> LineResult<TimeSpec> {
    if word == "*" {
        return Ok(TimeSpec::Any);
    }
    if let Some((a, b)) = word.split_once("...") {
        return Ok(TimeSpec::Blocking(parse_point(a)?, parse_point(b)?));
    }
    if let Some((a, b)) = word.split_once('~') {
        return Ok(TimeSpec::Range(parse_point(a)?, parse_point(b)?));
    }
    parse_point(word).map(TimeSpec::At)
}

fn next(lx: &mut Lexer<'_>) -> LineResult<Option<Token>> {
    lx.next_token().map_err(ParseErrorKind::Lex)
}

fn expect_punct(lx: &mut Lexer<'_>, c: char, ctx: &str) -> LineResult<()> {
    match next(lx)? {
        Some(Token::Punct(p)) if p == c => Ok(()),
        other => expected(&format!("`{c}` {ctx}"), other.as_ref()),
    }
}

fn number_u32(lx: &mut Lexer<'_>, what: &str) -> LineResult<u32> {
    match next(lx)? {
        Some(Token::Number(n)) => u32::try_from(n)
            .map_err(|_| ParseErrorKind::Invalid(format!("{what} {n} does not fit in 32 bits"))),
        other => expected(what, other.as_ref()),
    }
}

fn parse_flags(word: Option<&str>) -> LineResult<FlagSet> {
    let Some(w) = word else {
        return expected("TCP flags such as `S`, `S.`, `.`, `F.`, `R` or `-`", None);
    };
    if w == "-" {
        return Ok(FlagSet(0));
    }
    let mut f = 0u8;
    for c in w.chars() {
        let bit = match c {
            'S' => FlagSet::SYN,
            'F' => FlagSet::FIN,
            'R' => FlagSet::RST,
            'P' => FlagSet::PSH,
            '.' => FlagSet::ACK,
            'U' => FlagSet::URG,
            'E' => FlagSet::ECE,
            'W' => FlagSet::CWR,
            _ => {
                return Err(ParseErrorKind::Expected {
                    expected: "TCP flags made of `S F R P . U E W`, or `-` for none".into(),
                    found: format!("`{w}`"),
                })
            }
        };
        if f & bit != 0 {
            return Err(ParseErrorKind::Invalid(format!(
                "flag `{c}` repeated in `{w}`"
            )));
        }
        f |= bit;
    }
    Ok(FlagSet(f))
}

fn parse_packet(lx: &mut Lexer<'_>, direction: Direction) -> LineResult<PacketSpec> {
    // packetdrill's IP-level annotations (`[ect0]`, `[noecn]`, ...) are not
    // modelled: skipped.
    let rest = lx.rest();
    if rest.starts_with('[') {
        match rest.find(']') {
            Some(end) => lx.advance(end + 1),
            None => return expected("`]` closing the `[...]` annotation", None),
        }
    }
    let flags = parse_flags(lx.word())?;
    let start = number_u32(lx, "a sequence range `start:end(len)`")?;
    expect_punct(lx, ':', "in `start:end(len)`")?;
    let end = number_u32(lx, "the end of `start:end(len)`")?;
    expect_punct(lx, '(', "in `start:end(len)`")?;
    let len = number_u32(lx, "the length in `start:end(len)`")?;
    expect_punct(lx, ')', "closing `start:end(len)`")?;
    if end.wrapping_sub(start) != len {
        return Err(ParseErrorKind::Invalid(format!(
            "`{start}:{end}({len})`: end minus start is {}, not {len}",
            end.wrapping_sub(start)
        )));
    }
    let mut spec = PacketSpec {
        direction,
        flags,
        seq: SeqRange { start, end, len },
        ack: None,
        win: None,
        urg: None,
        options: None,
        optional: false,
    };
    loop {
        let tok = next(lx)?;
        match &tok {
            None => break,
            Some(Token::Ident(w)) if w == "ack" && spec.ack.is_none() => {
                spec.ack = Some(number_u32(lx, "an acknowledgment number after `ack`")?)
            }
            Some(Token::Ident(w)) if w == "win" && spec.win.is_none() => {
                spec.win = Some(number_u32(lx, "a window after `win`")?)
            }
            Some(Token::Ident(w)) if w == "urg" && spec.urg.is_none() => {
                let u = number_u32(lx, "an urgent pointer after `urg`")?;
                spec.urg = Some(u16::try_from(u).map_err(|_| {
                    ParseErrorKind::Invalid(format!("urgent pointer {u} does not fit in 16 bits"))
                })?);
            }
            Some(Token::Punct('<')) if spec.options.is_none() => {
                spec.options = Some(parse_options(lx)?);
            }
            _ => {
                return expected(
                    "`ack N`, `win N`, `urg N`, `<options>` or end of line (each at most once)",
                    tok.as_ref(),
                )
            }
        }
    }
    Ok(spec)
}

fn small<T: TryFrom<u32>>(v: u32, what: &str) -> LineResult<T> {
    T::try_from(v).map_err(|_| ParseErrorKind::Invalid(format!("{what} {v} is out of range")))
}

fn parse_options(lx: &mut Lexer<'_>) -> LineResult<OptionsSpec> {
    if lx.peek().map_err(ParseErrorKind::Lex)? == Some(Token::Ellipsis) {
        lx.next_token().map_err(ParseErrorKind::Lex)?;
        expect_punct(lx, '>', "after `<...`")?;
        return Ok(OptionsSpec::Any);
    }
    let mut list = Vec::new();
    loop {
        let tok = next(lx)?;
        let opt =
            match &tok {
                Some(Token::Ident(name)) => match name.as_str() {
                    "nop" => OptionSpec::Nop,
                    "eol" => OptionSpec::Eol,
                    "sackOK" => OptionSpec::SackPermitted,
                    "mss" => OptionSpec::Mss(small(number_u32(lx, "a value after `mss`")?, "mss")?),
                    "wscale" => OptionSpec::WindowScale(small(
                        number_u32(lx, "a value after `wscale`")?,
                        "wscale",
                    )?),
                    "TS" => {
                        match next(lx)? {
                            Some(Token::Ident(v)) if v == "val" => {}
                            other => return expected("`val` after `TS`", other.as_ref()),
                        }
                        let val = number_u32(lx, "a timestamp after `TS val`")?;
                        match next(lx)? {
                            Some(Token::Ident(v)) if v == "ecr" => {}
                            other => return expected("`ecr` in `TS val X ecr Y`", other.as_ref()),
                        }
                        let ecr = number_u32(lx, "a timestamp after `ecr`")?;
                        OptionSpec::Timestamp { val, ecr }
                    }
                    "sack" => {
                        let mut blocks = [(0u32, 0u32); 4];
                        let mut n = 0;
                        while let Some(Token::Number(_)) = lx.peek().map_err(ParseErrorKind::Lex)? {
                            if n == 4 {
                                return Err(ParseErrorKind::Invalid(
                                    "more than four SACK blocks".into(),
                                ));
                            }
                            let l = number_u32(lx, "a SACK block `left:right`")?;
                            expect_punct(lx, ':', "in a SACK block `left:right`")?;
                            let r = number_u32(lx, "the right edge of a SACK block")?;
                            blocks[n] = (l, r);
                            n += 1;
                        }
                        if n == 0 {
                            return expected("at least one SACK block `left:right`", None);
                        }
                        OptionSpec::Sack(blocks, n)
                    }
                    _ => return expected(
                        "a TCP option: nop, eol, mss N, wscale N, sackOK, TS val X ecr Y, sack A:B",
                        tok.as_ref(),
                    ),
                },
                _ => {
                    return expected(
                        "a TCP option: nop, eol, mss N, wscale N, sackOK, TS val X ecr Y, sack A:B",
                        tok.as_ref(),
                    )
                }
            };
        list.push(opt);
        match next(lx)? {
            Some(Token::Punct(',')) => continue,
            Some(Token::Punct('>')) => break,
            other => return expected("`,` or `>` in the option list", other.as_ref()),
        }
    }
    Ok(OptionsSpec::List(list))
}

fn parse_syscall(lx: &mut Lexer<'_>) -> LineResult<Syscall> {
    let name = match next(lx)? {
        Some(Token::Ident(n)) => n,
        other => return expected("a system call name", other.as_ref()),
    };
    expect_punct(lx, '(', &format!("after `{name}`"))?;
    let mut args = Vec::new();
    if lx.peek().map_err(ParseErrorKind::Lex)? == Some(Token::Punct(')')) {
        lx.next_token().map_err(ParseErrorKind::Lex)?;
    } else {
        loop {
            args.push(parse_expr(lx, 0)?);
            match next(lx)? {
                Some(Token::Punct(',')) => continue,
                Some(Token::Punct(')')) => break,
                other => return expected("`,` or `)` in the argument list", other.as_ref()),
            }
        }
    }
    expect_punct(lx, '=', &format!("and a return value after `{name}(...)`"))?;
    let ret = parse_expr(lx, 0)?;
    let mut errno = None;
    if let Some(Token::Ident(e)) = lx.peek().map_err(ParseErrorKind::Lex)? {
        lx.next_token().map_err(ParseErrorKind::Lex)?;
        errno = Some(e);
    }
    // A trailing `(free text)` is the strerror note; it is not checked.
    let rest = lx.rest();
    let is_note = rest.starts_with('(') && rest.ends_with(')');
    if !rest.is_empty() && !is_note {
        return Err(ParseErrorKind::Expected {
            expected: "an errno name, a `(note)` or end of line after the return value".into(),
            found: format!("`{rest}`"),
        });
    }
    Ok(Syscall {
        name,
        args,
        ret,
        errno,
    })
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 16;

fn parse_expr(lx: &mut Lexer<'_>, depth: usize) -> LineResult<Expr> {
    if depth > MAX_DEPTH {
        return Err(ParseErrorKind::Invalid(format!(
            "arguments nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let first = parse_atom(lx, depth)?;
    if lx.peek().map_err(ParseErrorKind::Lex)? != Some(Token::Punct('|')) {
        return Ok(first);
    }
    let mut parts = vec![first];
    while lx.peek().map_err(ParseErrorKind::Lex)? == Some(Token::Punct('|')) {
        lx.next_token().map_err(ParseErrorKind::Lex)?;
        parts.push(parse_atom(lx, depth)?);
    }
    Ok(Expr::BitOr(parts))
}

fn parse_atom(lx: &mut Lexer<'_>, depth: usize) -> LineResult<Expr> {
    let tok = next(lx)?;
    match tok {
        Some(Token::Ellipsis) => Ok(Expr::Ellipsis),
        Some(Token::Number(n)) => i64::try_from(n)
            .map(Expr::Int)
            .map_err(|_| ParseErrorKind::Invalid(format!("{n} is too large"))),
        Some(Token::Punct('-')) => match next(lx)? {
            Some(Token::Number(n)) => i64::try_from(n)
                .map(|n| Expr::Int(-n))
                .map_err(|_| ParseErrorKind::Invalid(format!("-{n} is too large"))),
            other => expected("a number after `-`", other.as_ref()),
        },
        Some(Token::Ident(n)) => Ok(Expr::Name(n)),
        Some(Token::Str(s)) => Ok(Expr::Str(s)),
        Some(Token::Punct('&')) => parse_expr(lx, depth + 1),
        Some(Token::Punct('[')) => {
            let mut v = Vec::new();
            if lx.peek().map_err(ParseErrorKind::Lex)? == Some(Token::Punct(']')) {
                lx.next_token().map_err(ParseErrorKind::Lex)?;
                return Ok(Expr::Array(v));
            }
            loop {
                v.push(parse_expr(lx, depth + 1)?);
                match next(lx)? {
                    Some(Token::Punct(',')) => continue,
                    Some(Token::Punct(']')) => return Ok(Expr::Array(v)),
                    other => return expected("`,` or `]`", other.as_ref()),
                }
            }
        }
        Some(Token::Punct('{')) => {
            let mut v = Vec::new();
            if lx.peek().map_err(ParseErrorKind::Lex)? == Some(Token::Punct('}')) {
                lx.next_token().map_err(ParseErrorKind::Lex)?;
                return Ok(Expr::Struct(v));
            }
            loop {
                let field = match next(lx)? {
                    Some(Token::Ident(f)) => f,
                    other => return expected("a field name in `{field=value}`", other.as_ref()),
                };
                expect_punct(lx, '=', "after the field name")?;
                v.push((field, parse_expr(lx, depth + 1)?));
                match next(lx)? {
                    Some(Token::Punct(',')) => continue,
                    Some(Token::Punct('}')) => return Ok(Expr::Struct(v)),
                    other => return expected("`,` or `}`", other.as_ref()),
                }
            }
        }
        other => expected(
            "an argument: a number, a name, `...`, `[..]`, `{..}` or a string",
            other.as_ref(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Script, ParseError> {
        parse("t.pkt", text, &BTreeSet::new())
    }

    fn one(text: &str) -> Event {
        let s = p(text).unwrap();
        assert_eq!(s.events.len(), 1, "{s:?}");
        s.events.into_iter().next().unwrap()
    }

    fn packet(text: &str) -> PacketSpec {
        match one(text).kind {
            EventKind::Packet(p) => p,
            k => panic!("not a packet: {k:?}"),
        }
    }

    fn syscall(text: &str) -> Syscall {
        match one(text).kind {
            EventKind::Syscall(s) => s,
            k => panic!("not a syscall: {k:?}"),
        }
    }

    fn err(text: &str) -> ParseError {
        p(text).unwrap_err()
    }

    #[test]
    fn time_column_forms() {
        assert_eq!(
            one("0.100 < S 0:0(0)").time,
            TimeSpec::At(TimePoint::Absolute(100_000))
        );
        assert_eq!(
            one("+0.1 < S 0:0(0)").time,
            TimeSpec::At(TimePoint::Relative(100_000))
        );
        assert_eq!(
            one("+0 < S 0:0(0)").time,
            TimeSpec::At(TimePoint::Relative(0))
        );
        assert_eq!(
            one("2 < S 0:0(0)").time,
            TimeSpec::At(TimePoint::Absolute(2_000_000))
        );
        assert_eq!(one("* > S 0:0(0)").time, TimeSpec::Any);
        assert_eq!(
            one("0.1~0.2 > S 0:0(0)").time,
            TimeSpec::Range(TimePoint::Absolute(100_000), TimePoint::Absolute(200_000))
        );
        assert_eq!(
            one("+0.1~+0.25 > S 0:0(0)").time,
            TimeSpec::Range(TimePoint::Relative(100_000), TimePoint::Relative(250_000))
        );
        assert_eq!(
            one("0.1...0.2 accept(3, ..., ...) = 4").time,
            TimeSpec::Blocking(TimePoint::Absolute(100_000), TimePoint::Absolute(200_000))
        );
        assert_eq!(
            one(".5 < S 0:0(0)").time,
            TimeSpec::At(TimePoint::Absolute(500_000))
        );
        assert_eq!(
            one("1.000001 < S 0:0(0)").time,
            TimeSpec::At(TimePoint::Absolute(1_000_001))
        );
    }

    #[test]
    fn bad_times() {
        let e = err("\n\nabc < S 0:0(0)");
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("t.pkt:3: expected a time"), "{e}");
        assert!(matches!(
            err("0.1234567 < S 0:0(0)").kind,
            ParseErrorKind::Invalid(_)
        ));
        assert!(matches!(
            err("1.2.3 < S 0:0(0)").kind,
            ParseErrorKind::Expected { .. }
        ));
        assert!(matches!(
            err("+ < S 0:0(0)").kind,
            ParseErrorKind::Expected { .. }
        ));
        assert!(matches!(
            err("99999999999999999 < S 0:0(0)").kind,
            ParseErrorKind::Invalid(_)
        ));
    }

    #[test]
    fn segment_lines() {
        let s = packet("0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>");
        assert_eq!(s.direction, Direction::Inbound);
        assert_eq!(s.flags, FlagSet(FlagSet::SYN));
        assert_eq!(
            s.seq,
            SeqRange {
                start: 0,
                end: 0,
                len: 0
            }
        );
        assert_eq!(s.win, Some(32792));
        assert_eq!(s.ack, None);
        assert_eq!(
            s.options,
            Some(OptionsSpec::List(vec![
                OptionSpec::Mss(1000),
                OptionSpec::SackPermitted,
                OptionSpec::Nop,
                OptionSpec::Nop,
                OptionSpec::Nop,
                OptionSpec::WindowScale(7),
            ]))
        );
        let s = packet("+0 > S. 0:0(0) ack 1 <...>");
        assert_eq!(s.direction, Direction::Outbound);
        assert_eq!(s.flags, FlagSet(FlagSet::SYN | FlagSet::ACK));
        assert_eq!(s.ack, Some(1));
        assert_eq!(s.options, Some(OptionsSpec::Any));
        let s = packet("+0 < P. 1:1001(1000) ack 1 win 257 urg 3");
        assert_eq!(s.flags, FlagSet(FlagSet::PSH | FlagSet::ACK));
        assert_eq!(
            s.seq,
            SeqRange {
                start: 1,
                end: 1001,
                len: 1000
            }
        );
        assert_eq!(s.urg, Some(3));
        assert_eq!(s.options, None);
        for (w, f) in [
            ("F.", FlagSet::FIN | FlagSet::ACK),
            ("R.", FlagSet::RST | FlagSet::ACK),
            ("R", FlagSet::RST),
            (".", FlagSet::ACK),
            ("-", 0),
            ("SEW", FlagSet::SYN | FlagSet::ECE | FlagSet::CWR),
            (
                "FPU.",
                FlagSet::FIN | FlagSet::PSH | FlagSet::URG | FlagSet::ACK,
            ),
        ] {
            assert_eq!(packet(&format!("0 < {w} 5:5(0)")).flags, FlagSet(f), "{w}");
        }
        // IP annotations are skipped.
        assert_eq!(
            packet("0 < [ect0] S. 5:5(0) ack 1").flags,
            FlagSet(FlagSet::SYN | FlagSet::ACK)
        );
        assert!(p("0 < [ect0 S 5:5(0)").is_err());
        // Sequence ranges that wrap the 32-bit space.
        let s = packet("0 < . 4294967295:9(10) ack 1");
        assert_eq!(s.seq.len, 10);
    }

    #[test]
    fn optional_expected_segments() {
        let s = packet("+0 >? . 1:1(0) ack 5");
        assert!(s.optional);
        assert_eq!(s.direction, Direction::Outbound);
        assert!(!packet("+0 > . 1:1(0) ack 5").optional);
        assert!(p("+0 <? . 1:1(0)").is_err());
    }

    #[test]
    fn option_forms() {
        let s = packet("0 > . 1:1(0) ack 1 <nop,nop,TS val 100 ecr 7,eol>");
        assert_eq!(
            s.options,
            Some(OptionsSpec::List(vec![
                OptionSpec::Nop,
                OptionSpec::Nop,
                OptionSpec::Timestamp { val: 100, ecr: 7 },
                OptionSpec::Eol,
            ]))
        );
        let s = packet("0 > . 1:1(0) ack 1 <nop,nop,sack 10:20 30:40>");
        let mut blocks = [(0, 0); 4];
        blocks[0] = (10, 20);
        blocks[1] = (30, 40);
        assert_eq!(
            s.options,
            Some(OptionsSpec::List(vec![
                OptionSpec::Nop,
                OptionSpec::Nop,
                OptionSpec::Sack(blocks, 2)
            ]))
        );
    }

    #[test]
    fn bad_segments() {
        for (text, needle) in [
            ("0 < X 0:0(0)", "TCP flags"),
            ("0 < SS 0:0(0)", "repeated"),
            ("0 <", "TCP flags"),
            ("0 < S", "sequence range"),
            ("0 < S 0:1(0)", "end minus start is 1, not 0"),
            ("0 < S 0 0(0)", "`:`"),
            ("0 < S 0:0(0) ack", "acknowledgment number"),
            ("0 < S 0:0(0) ack 1 ack 2", "each at most once"),
            ("0 < S 0:0(0) win 5000000000", "does not fit in 32 bits"),
            ("0 < S 0:0(0) <mss 70000>", "out of range"),
            ("0 < S 0:0(0) <foo>", "a TCP option"),
            ("0 < S 0:0(0) <mss 1 mss 2>", "`,` or `>`"),
            ("0 < S 0:0(0) <TS 1 ecr 2>", "`val`"),
            ("0 < S 0:0(0) <sack>", "SACK block"),
            ("0 < S 0:0(0) <sack 1:2 3:4 5:6 7:8 9:10>", "four"),
            ("0 < S 0:0(0) <...", "`>`"),
            ("0 < S 0:0(0) #", "unexpected character"),
            ("0 hello", "`(`"),
            ("0 42", "`<`, `>`, a system call"),
        ] {
            let e = err(text);
            assert_eq!(e.line, 1);
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn system_calls() {
        let s = syscall("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
        assert_eq!(s.name, "socket");
        assert_eq!(
            s.args,
            vec![
                Expr::Ellipsis,
                Expr::Name("SOCK_STREAM".into()),
                Expr::Name("IPPROTO_TCP".into())
            ]
        );
        assert_eq!(s.ret, Expr::Int(3));
        let s = syscall("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
        assert_eq!(s.ret, Expr::Int(-1));
        assert_eq!(s.errno.as_deref(), Some("EINPROGRESS"));
        let s = syscall("+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0");
        assert_eq!(
            s.args[3],
            Expr::Struct(vec![
                ("l_onoff".into(), Expr::Int(1)),
                ("l_linger".into(), Expr::Int(0))
            ])
        );
        let s = syscall("+0 setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0");
        assert_eq!(s.args[3], Expr::Array(vec![Expr::Int(1)]));
        let s = syscall("+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        assert_eq!(
            s.args[2],
            Expr::BitOr(vec![
                Expr::Name("O_RDWR".into()),
                Expr::Name("O_NONBLOCK".into())
            ])
        );
        let s = syscall("+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)");
        assert_eq!(s.ret, Expr::Int(2));
        assert_eq!(s.errno, None);
        let s = syscall("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0");
        assert_eq!(s.args.len(), 5);
        let s = syscall("+0 write(4, ..., 1000) = 1000");
        assert_eq!(s.args[2], Expr::Int(1000));
        let s = syscall(r#"+0 send(4, "hi", 2, 0) = 2"#);
        assert_eq!(s.args[1], Expr::Str("hi".into()));
        let s = syscall("+0 shutdown(4, SHUT_WR) = 0");
        assert_eq!(s.args[1], Expr::Name("SHUT_WR".into()));
        let s = syscall("+0 getpid() = 7");
        assert!(s.args.is_empty());
    }

    #[test]
    fn bad_system_calls() {
        for (text, needle) in [
            ("0 close(3 = 0", "`,` or `)`"),
            ("0 close(3)", "return value"),
            ("0 close(3) = ", "an argument"),
            ("0 close(3) = 0 EBADF junk", "errno name"),
            ("0 f({a 1}) = 0", "`=` after the field name"),
            ("0 f([1,2) = 0", "`,` or `]`"),
            ("0 f(-x) = 0", "number after `-`"),
            (
                "0 f([[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]) = 0",
                "nested deeper",
            ),
        ] {
            let e = err(text);
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn comments_headers_and_skipped_blocks() {
        let text = "\
--tolerance_usecs=10000
--ip_version=ipv4
// a comment
/* a block
   comment */ 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing
`sysctl -q net.ipv4.tcp_timestamps=0
sysctl -q x=1`
+0 `echo hi`
%{
print('not run')
}%
+0 close(3) = 0 /* inline */
";
        let s = p(text).unwrap();
        assert_eq!(
            s.headers,
            vec![
                Header {
                    line: 1,
                    name: "tolerance_usecs".into(),
                    value: Some("10000".into())
                },
                Header {
                    line: 2,
                    name: "ip_version".into(),
                    value: Some("ipv4".into())
                },
            ]
        );
        assert_eq!(
            s.skipped,
            SkipCounts {
                shell_commands: 2,
                code_blocks: 1
            }
        );
        let lines: Vec<usize> = s.events.iter().map(|e| e.line).collect();
        // The socket call follows the block comment on line 5; the multi-line
        // shell command starts on line 6.
        assert_eq!(lines, vec![5, 6, 8, 9, 12]);
        assert!(matches!(s.events[1].kind, EventKind::Shell));
        assert!(matches!(s.events[3].kind, EventKind::CodeBlock));
    }

    #[test]
    fn unterminated_constructs() {
        assert_eq!(
            err("\n/* open").kind,
            ParseErrorKind::Unterminated("`/*` comment")
        );
        assert_eq!(err("\n/* open").line, 2);
        assert_eq!(
            err("0 `open").kind,
            ParseErrorKind::Unterminated("backquoted shell command")
        );
        assert_eq!(
            err("%{ open").kind,
            ParseErrorKind::Unterminated("`%{` code block")
        );
        assert_eq!(
            err("0 f(\"abc) = 0").kind,
            ParseErrorKind::Unterminated("string")
        );
        assert!(err("0 `a` junk")
            .to_string()
            .contains("end of line after the skipped block"));
        assert!(err("--bad name=1").to_string().contains("header line"));
    }

    #[test]
    fn conditionals_follow_defines() {
        let text = "\
#ifdef LINUX
0 close(1) = 0
#else
0 close(2) = 0
#endif
#ifndef LINUX
0 close(3) = 0
#ifdef NESTED
0 close(4) = 0
#endif
#endif
";
        let fds = |defs: &[&str]| -> Vec<Expr> {
            let d = defs.iter().map(|s| s.to_string()).collect();
            parse("t", text, &d)
                .unwrap()
                .events
                .into_iter()
                .map(|e| match e.kind {
                    EventKind::Syscall(s) => s.args[0].clone(),
                    k => panic!("{k:?}"),
                })
                .collect()
        };
        assert_eq!(fds(&["LINUX"]), vec![Expr::Int(1)]);
        assert_eq!(fds(&[]), vec![Expr::Int(2), Expr::Int(3)]);
        assert_eq!(
            fds(&["NESTED"]),
            vec![Expr::Int(2), Expr::Int(3), Expr::Int(4)]
        );
        // An #else inside an inactive region stays inactive.
        let s = parse(
            "t",
            "#ifdef A\n#ifdef B\n#else\n0 close(9) = 0\n#endif\n#endif\n",
            &BTreeSet::new(),
        )
        .unwrap();
        assert!(s.events.is_empty());
    }

    #[test]
    fn bad_conditionals() {
        assert!(err("#endif")
            .to_string()
            .contains("`#endif` without `#ifdef`"));
        assert!(err("#else").to_string().contains("`#else` without"));
        assert_eq!(err("\n#ifdef X\n").line, 2);
        assert!(err("#ifdef X\n#else\n#else\n#endif")
            .to_string()
            .contains("second `#else`"));
        assert!(err("#if X").to_string().contains("`#ifdef NAME`"));
        assert!(err("#ifdef").to_string().contains("one name"));
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn on_arbitrary_text(text in "\\PC*") {
                let _ = p(&text);
            }

            #[test]
            fn on_script_like_text(text in "([0-9.+*~ <>SFRP.:()ackwinmsTval,`%{}/#\\-\n\"\\[\\]=|&]|ifdef|else|endif|nop|sackOK){0,80}") {
                let _ = p(&text);
            }
        }
    }
}
