//! A cursor over one logical script line, handing out tokens on demand.
//!
//! The parser drives it token by token because a few spots of packetdrill's
//! syntax are not regular (the flags word, the free-text errno note).

/// A token of an event line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A decimal or `0x` hexadecimal number.
    Number(u64),
    /// Letters, digits and `_`, not starting with a digit.
    Ident(String),
    /// A double-quoted string (no escapes beyond `\"` and `\\`).
    Str(String),
    /// `...`
    Ellipsis,
    /// Any single punctuation character: `< > : ( ) , = [ ] { } | - & . ~ + *`.
    Punct(char),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Number(n) => write!(f, "number {n}"),
            Token::Ident(s) => write!(f, "`{s}`"),
            Token::Str(s) => write!(f, "string {s:?}"),
            Token::Ellipsis => f.write_str("`...`"),
            Token::Punct(c) => write!(f, "`{c}`"),
        }
    }
}

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    BadChar(char),
    NumberTooLarge(String),
    BadNumber(String),
    UnterminatedString,
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LexError::BadChar(c) => write!(f, "unexpected character {c:?}"),
            LexError::NumberTooLarge(s) => write!(f, "number `{s}` is too large"),
            LexError::BadNumber(s) => write!(f, "`{s}` is not a number"),
            LexError::UnterminatedString => f.write_str("unterminated string"),
        }
    }
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

const PUNCT: &str = "<>:(),=[]{}|-&.~+*!/";

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn skip_ws(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The unread rest of the line, leading whitespace skipped.
    pub fn rest(&mut self) -> &'a str {
        self.skip_ws();
        &self.src[self.pos..]
    }

    pub fn at_end(&mut self) -> bool {
        self.rest().is_empty()
    }

    /// The next whitespace-delimited word, consumed whole (used for the flags word).
    pub fn word(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.pos += end;
        Some(&rest[..end])
    }

    /// Consume `n` bytes of the rest (which the caller has looked at).
    pub fn advance(&mut self, n: usize) {
        self.skip_ws();
        self.pos = (self.pos + n).min(self.src.len());
    }

    pub fn peek(&mut self) -> Result<Option<Token>, LexError> {
        let save = self.pos;
        let t = self.next_token();
        self.pos = save;
        t
    }

    pub fn next_token(&mut self) -> Result<Option<Token>, LexError> {
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(None);
        };
        if rest.starts_with("...") {
            self.pos += 3;
            return Ok(Some(Token::Ellipsis));
        }
        if c.is_ascii_digit() {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            let text = &rest[..end];
            self.pos += end;
            let value =
                if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                    u64::from_str_radix(hex, 16)
                } else {
                    text.parse::<u64>()
                };
            return match value {
                Ok(v) => Ok(Some(Token::Number(v))),
                Err(e) => {
                    if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
                        Err(LexError::NumberTooLarge(text.to_string()))
                    } else {
                        Err(LexError::BadNumber(text.to_string()))
                    }
                }
            };
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            self.pos += end;
            return Ok(Some(Token::Ident(rest[..end].to_string())));
        }
        if c == '"' {
            let mut out = String::new();
            let mut chars = rest.char_indices().skip(1);
            while let Some((i, ch)) = chars.next() {
                match ch {
                    '"' => {
                        self.pos += i + 1;
                        return Ok(Some(Token::Str(out)));
                    }
                    '\\' => match chars.next() {
                        Some((_, esc)) => out.push(esc),
                        None => return Err(LexError::UnterminatedString),
                    },
                    _ => out.push(ch),
                }
            }
            return Err(LexError::UnterminatedString);
        }
        if PUNCT.contains(c) {
            self.pos += c.len_utf8();
            return Ok(Some(Token::Punct(c)));
        }
        Err(LexError::BadChar(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &str) -> Vec<Token> {
        let mut lx = Lexer::new(s);
        let mut v = Vec::new();
        while let Some(t) = lx.next_token().unwrap() {
            v.push(t);
        }
        v
    }

    #[test]
    fn tokens_of_a_segment_tail() {
        assert_eq!(
            all("1:1001(1000) ack 0x10 <...>"),
            vec![
                Token::Number(1),
                Token::Punct(':'),
                Token::Number(1001),
                Token::Punct('('),
                Token::Number(1000),
                Token::Punct(')'),
                Token::Ident("ack".into()),
                Token::Number(16),
                Token::Punct('<'),
                Token::Ellipsis,
                Token::Punct('>'),
            ]
        );
    }

    #[test]
    fn strings_and_errors() {
        assert_eq!(all(r#""a\"b""#), vec![Token::Str("a\"b".into())]);
        assert_eq!(
            Lexer::new("\"abc").next_token(),
            Err(LexError::UnterminatedString)
        );
        assert_eq!(Lexer::new("@").next_token(), Err(LexError::BadChar('@')));
        assert!(matches!(
            Lexer::new("99999999999999999999999").next_token(),
            Err(LexError::NumberTooLarge(_))
        ));
        assert_eq!(
            Lexer::new("12ab").next_token(),
            Err(LexError::BadNumber("12ab".into()))
        );
    }

    #[test]
    fn words_and_rest() {
        let mut lx = Lexer::new("  S.  0:0(0)");
        assert_eq!(lx.word(), Some("S."));
        assert_eq!(lx.rest(), "0:0(0)");
        assert!(!lx.at_end());
    }
}
