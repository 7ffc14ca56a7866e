//! The Redis protocol, RESP2: values, an incremental parser with size limits, and the
//! encoder.
//!
//! A client sends each command as an array of bulk strings
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`), or, typed by hand into a terminal, as an inline
//! line of words (`GET k\r\n`, with quoting as redis-cli and Redis accept it). The server
//! answers with one value per command. [`parse_command`] reads one command from the front
//! of a buffer and says how many bytes it used, or that more bytes are needed, or what is
//! wrong and at which byte; it never allocates more than the bytes already received, so a
//! length prefix of a gigabyte is refused at once ([`Limits`]) instead of being waited for.
//! [`parse_value`] reads any value, which is what a client does with the server's answers.

use std::fmt;

/// One RESP2 value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+OK`: a status line (no CR or LF inside).
    Simple(String),
    /// `-ERR ...`: an error line.
    Error(String),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nabc`, or `$-1` (the nil bulk string) as `None`.
    Bulk(Option<Vec<u8>>),
    /// `*2 ...`, or `*-1` (the nil array) as `None`.
    Array(Option<Vec<Value>>),
}

impl Value {
    /// A bulk string.
    pub fn bulk(bytes: impl Into<Vec<u8>>) -> Value {
        Value::Bulk(Some(bytes.into()))
    }

    /// An error reply; Redis error lines start with a code word such as `ERR`.
    pub fn error(message: impl Into<String>) -> Value {
        Value::Error(message.into())
    }

    /// `+OK`.
    pub fn ok() -> Value {
        Value::Simple("OK".into())
    }

    /// Appends the value's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Simple(s) => line(out, b'+', s),
            Value::Error(s) => line(out, b'-', s),
            Value::Integer(n) => {
                out.push(b':');
                out.extend_from_slice(n.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Value::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Value::Bulk(Some(b)) => {
                out.push(b'$');
                out.extend_from_slice(b.len().to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Value::Array(None) => out.extend_from_slice(b"*-1\r\n"),
            Value::Array(Some(items)) => {
                out.push(b'*');
                out.extend_from_slice(items.len().to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                for v in items {
                    v.encode(out);
                }
            }
        }
    }

    /// The value's encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Writes a status or error line; a CR or LF inside (which would break the framing) is
/// replaced by a space.
fn line(out: &mut Vec<u8>, tag: u8, s: &str) {
    out.push(tag);
    out.extend(
        s.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// How large a request may be. Anything past a limit is a protocol error, found as soon
/// as the length prefix (or the inline line) is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest bulk string.
    pub max_bulk: usize,
    /// The most elements of one array.
    pub max_array: usize,
    /// The longest inline command line (and any header line).
    pub max_inline: usize,
    /// The deepest nesting of arrays in a value.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 64 MiB bulk strings, arrays of a million elements, 64 KiB inline lines (Redis's
    /// own inline limit), nesting 8 deep.
    fn default() -> Self {
        Limits {
            max_bulk: 64 << 20,
            max_array: 1 << 20,
            max_inline: 64 << 10,
            max_depth: 8,
        }
    }
}

/// What is wrong with the bytes, and at which offset from the start of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// The byte offset, from the start of the command, where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Protocol error: {} at byte {}", self.reason, self.offset)
    }
}

impl std::error::Error for ProtocolError {}

/// The outcome of parsing the front of a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole item, and the bytes it took.
    Done(T, usize),
    /// The buffer ends before the item does.
    Incomplete,
}

/// Reads one client command (an array of bulk strings, or an inline line) from the front
/// of `buf`. An empty inline line is skipped (it yields an empty command, as Redis
/// ignores it).
pub fn parse_command(buf: &[u8], limits: &Limits) -> Result<Parsed<Vec<Vec<u8>>>, ProtocolError> {
    if buf.is_empty() {
        return Ok(Parsed::Incomplete);
    }
    if buf[0] != b'*' {
        return parse_inline(buf, limits);
    }
    let mut p = Parser {
        buf,
        pos: 0,
        limits,
    };
    let Some(n) = p.header(b'*')? else {
        return Ok(Parsed::Incomplete);
    };
    if n < 0 {
        // `*-1` or `*0`: Redis ignores such a command.
        return Ok(Parsed::Done(Vec::new(), p.pos));
    }
    let n = n as usize;
    if n > limits.max_array {
        return Err(p.error(0, "invalid multibulk length"));
    }
    let mut args = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        if p.pos >= buf.len() {
            return Ok(Parsed::Incomplete);
        }
        if buf[p.pos] != b'$' {
            let got = printable(buf[p.pos]);
            return Err(p.error(p.pos, &format!("expected '$', got '{got}'")));
        }
        match p.bulk()? {
            None => return Ok(Parsed::Incomplete),
            Some(Some(b)) => args.push(b.to_vec()),
            Some(None) => return Err(p.error(p.pos, "a command argument cannot be nil")),
        }
    }
    Ok(Parsed::Done(args, p.pos))
}

/// Reads any value from the front of `buf` (how a client reads the server's answers).
pub fn parse_value(buf: &[u8], limits: &Limits) -> Result<Parsed<Value>, ProtocolError> {
    let mut p = Parser {
        buf,
        pos: 0,
        limits,
    };
    match p.value(0)? {
        Some(v) => Ok(Parsed::Done(v, p.pos)),
        None => Ok(Parsed::Incomplete),
    }
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

impl<'a> Parser<'a> {
    fn error(&self, offset: usize, reason: &str) -> ProtocolError {
        ProtocolError {
            offset,
            reason: reason.to_string(),
        }
    }

    /// The line from `pos` up to CRLF (excluded), or `None` if the CRLF has not arrived.
    fn line(&mut self) -> Result<Option<&'a [u8]>, ProtocolError> {
        let rest = &self.buf[self.pos..];
        let limit = rest.len().min(self.limits.max_inline + 2);
        match rest[..limit].windows(2).position(|w| w == b"\r\n") {
            Some(end) => {
                let l = &rest[..end];
                self.pos += end + 2;
                Ok(Some(l))
            }
            None if rest.len() > self.limits.max_inline + 1 => {
                Err(self.error(self.pos, "too big header or status line"))
            }
            None => Ok(None),
        }
    }

    /// A `<tag><integer>\r\n` line; the tag has been checked by the caller.
    fn header(&mut self, tag: u8) -> Result<Option<i64>, ProtocolError> {
        let start = self.pos;
        let Some(l) = self.line()? else {
            return Ok(None);
        };
        debug_assert_eq!(l.first(), Some(&tag));
        let what = if tag == b'*' {
            "invalid multibulk length"
        } else {
            "invalid bulk length"
        };
        let digits = &l[1..];
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| self.error(start, what))
    }

    /// A bulk string: `Some(Some(bytes))`, `Some(None)` for `$-1`, `None` if incomplete.
    fn bulk(&mut self) -> Result<Option<Option<&'a [u8]>>, ProtocolError> {
        let start = self.pos;
        let Some(n) = self.header(b'$')? else {
            return Ok(None);
        };
        if n == -1 {
            return Ok(Some(None));
        }
        if n < 0 || n as u64 > self.limits.max_bulk as u64 {
            return Err(self.error(start, "invalid bulk length"));
        }
        let n = n as usize;
        if self.buf.len() - self.pos < n + 2 {
            return Ok(None);
        }
        let data = &self.buf[self.pos..self.pos + n];
        if &self.buf[self.pos + n..self.pos + n + 2] != b"\r\n" {
            return Err(self.error(self.pos + n, "bulk string not followed by CRLF"));
        }
        self.pos += n + 2;
        Ok(Some(Some(data)))
    }

    fn value(&mut self, depth: usize) -> Result<Option<Value>, ProtocolError> {
        let Some(&tag) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        let start = self.pos;
        let text = |l: &[u8]| String::from_utf8_lossy(&l[1..]).into_owned();
        match tag {
            b'+' => Ok(self.line()?.map(|l| Value::Simple(text(l)))),
            b'-' => Ok(self.line()?.map(|l| Value::Error(text(l)))),
            b':' => match self.line()? {
                None => Ok(None),
                Some(l) => std::str::from_utf8(&l[1..])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .map(|n| Some(Value::Integer(n)))
                    .ok_or_else(|| self.error(start, "invalid integer")),
            },
            b'$' => Ok(self.bulk()?.map(|b| Value::Bulk(b.map(<[u8]>::to_vec)))),
            b'*' => {
                if depth >= self.limits.max_depth {
                    return Err(self.error(start, "arrays nested too deep"));
                }
                let Some(n) = self.header(b'*')? else {
                    return Ok(None);
                };
                if n == -1 {
                    return Ok(Some(Value::Array(None)));
                }
                if n < 0 || n as u64 > self.limits.max_array as u64 {
                    return Err(self.error(start, "invalid multibulk length"));
                }
                let mut items = Vec::with_capacity((n as usize).min(64));
                for _ in 0..n {
                    match self.value(depth + 1)? {
                        Some(v) => items.push(v),
                        None => return Ok(None),
                    }
                }
                Ok(Some(Value::Array(Some(items))))
            }
            other => Err(self.error(start, &format!("unknown type byte '{}'", printable(other)))),
        }
    }
}

fn printable(b: u8) -> String {
    if b.is_ascii_graphic() {
        (b as char).to_string()
    } else {
        format!("\\x{b:02x}")
    }
}

/// An inline command: one line (LF or CRLF ended) of words, split as Redis does: spaces
/// separate words; `"..."` takes the escapes `\n \r \t \b \a \\ \" \xHH`; `'...'` takes
/// only `\'`; a closing quote must be followed by a space or the end of the line.
fn parse_inline(buf: &[u8], limits: &Limits) -> Result<Parsed<Vec<Vec<u8>>>, ProtocolError> {
    let scan = buf.len().min(limits.max_inline + 1);
    let Some(nl) = buf[..scan].iter().position(|&b| b == b'\n') else {
        if buf.len() > limits.max_inline {
            return Err(ProtocolError {
                offset: 0,
                reason: "too big inline request".into(),
            });
        }
        return Ok(Parsed::Incomplete);
    };
    let mut l = &buf[..nl];
    if l.last() == Some(&b'\r') {
        l = &l[..l.len() - 1];
    }
    let args = split_args(l).map_err(|offset| ProtocolError {
        offset,
        reason: "unbalanced quotes in request".into(),
    })?;
    Ok(Parsed::Done(args, nl + 1))
}

/// Splits an inline line into words; the error is the offset of the unbalanced quote.
fn split_args(l: &[u8]) -> Result<Vec<Vec<u8>>, usize> {
    let mut args = Vec::new();
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    while i < l.len() {
        while i < l.len() && l[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == l.len() {
            break;
        }
        let mut word = Vec::new();
        loop {
            if i == l.len() {
                break;
            }
            match l[i] {
                b'"' => {
                    let open = i;
                    i += 1;
                    loop {
                        match l.get(i) {
                            None => return Err(open),
                            Some(b'\\') if i + 3 < l.len() && l[i + 1] == b'x' => {
                                match (hex(l[i + 2]), hex(l[i + 3])) {
                                    (Some(h), Some(lo)) => {
                                        word.push(h * 16 + lo);
                                        i += 4;
                                    }
                                    _ => {
                                        word.push(b'x');
                                        i += 2;
                                    }
                                }
                            }
                            Some(b'\\') if i + 1 < l.len() => {
                                word.push(match l[i + 1] {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    b'b' => 8,
                                    b'a' => 7,
                                    c => c,
                                });
                                i += 2;
                            }
                            Some(b'"') => {
                                i += 1;
                                if i < l.len() && !l[i].is_ascii_whitespace() {
                                    return Err(open);
                                }
                                break;
                            }
                            Some(&c) => {
                                word.push(c);
                                i += 1;
                            }
                        }
                    }
                }
                b'\'' => {
                    let open = i;
                    i += 1;
                    loop {
                        match l.get(i) {
                            None => return Err(open),
                            Some(b'\\') if l.get(i + 1) == Some(&b'\'') => {
                                word.push(b'\'');
                                i += 2;
                            }
                            Some(b'\'') => {
                                i += 1;
                                if i < l.len() && !l[i].is_ascii_whitespace() {
                                    return Err(open);
                                }
                                break;
                            }
                            Some(&c) => {
                                word.push(c);
                                i += 1;
                            }
                        }
                    }
                }
                c if c.is_ascii_whitespace() => break,
                c => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        args.push(word);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(bytes: &[u8]) -> Vec<Vec<u8>> {
        match parse_command(bytes, &Limits::default()) {
            Ok(Parsed::Done(args, used)) => {
                assert_eq!(used, bytes.len(), "the whole command is used");
                args
            }
            other => panic!("not one whole command: {other:?}"),
        }
    }

    fn words(ws: &[&str]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn reads_an_array_of_bulk_strings() {
        assert_eq!(
            cmd(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nx!\r\n"),
            words(&["SET", "k", "v\r\nx!"])
        );
        assert_eq!(cmd(b"*1\r\n$0\r\n\r\n"), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn every_prefix_of_a_command_is_incomplete() {
        let whole = b"*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
        for cut in 0..whole.len() {
            assert_eq!(
                parse_command(&whole[..cut], &Limits::default()),
                Ok(Parsed::Incomplete),
                "cut at {cut}"
            );
        }
        let mut two = whole.to_vec();
        two.extend_from_slice(b"PING\r\n");
        assert_eq!(
            parse_command(&two, &Limits::default()),
            Ok(Parsed::Done(words(&["GET", "0123456789"]), whole.len()))
        );
    }

    #[test]
    fn a_gigabyte_length_prefix_is_refused_at_once() {
        let e = parse_command(b"*1\r\n$1073741824\r\n", &Limits::default()).unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(e.reason, "invalid bulk length");
        let e = parse_command(b"*99999999999\r\n", &Limits::default()).unwrap_err();
        assert_eq!(e.reason, "invalid multibulk length");
        let e = parse_command(b"*1\r\n$-5\r\n", &Limits::default()).unwrap_err();
        assert_eq!(e.reason, "invalid bulk length");
        let e = parse_command(b"*1\r\n$x\r\n", &Limits::default()).unwrap_err();
        assert_eq!(e.reason, "invalid bulk length");
    }

    #[test]
    fn bad_framing_names_the_byte() {
        let e = parse_command(b"*2\r\n$1\r\na\r\n:1\r\n", &Limits::default()).unwrap_err();
        assert_eq!((e.offset, e.reason.as_str()), (11, "expected '$', got ':'"));
        let e = parse_command(b"*1\r\n$1\r\nab\r\n", &Limits::default()).unwrap_err();
        assert_eq!(
            (e.offset, e.reason.as_str()),
            (9, "bulk string not followed by CRLF")
        );
        let long = vec![b'a'; 70 << 10];
        let e = parse_command(&long, &Limits::default()).unwrap_err();
        assert_eq!(e.reason, "too big inline request");
        let mut header = b"*1\r\n$".to_vec();
        header.extend(std::iter::repeat_n(b'1', 70 << 10));
        let e = parse_command(&header, &Limits::default()).unwrap_err();
        assert_eq!(e.reason, "too big header or status line");
    }

    #[test]
    fn reads_inline_commands_with_quotes() {
        assert_eq!(cmd(b"PING\r\n"), words(&["PING"]));
        assert_eq!(cmd(b"  set  k   v\n"), words(&["set", "k", "v"]));
        assert_eq!(
            cmd(b"SET k \"a b\\n\\x41\\\"\" 'it\\'s'\r\n"),
            words(&["SET", "k", "a b\nA\"", "it's"])
        );
        assert_eq!(cmd(b"\r\n"), Vec::<Vec<u8>>::new());
        let e = parse_command(b"SET k \"open\r\n", &Limits::default()).unwrap_err();
        assert_eq!(
            (e.offset, e.reason.as_str()),
            (6, "unbalanced quotes in request")
        );
        let e = parse_command(b"SET k \"a\"b\r\n", &Limits::default()).unwrap_err();
        assert_eq!(e.offset, 6);
    }

    #[test]
    fn values_round_trip() {
        let v = Value::Array(Some(vec![
            Value::ok(),
            Value::error("ERR no"),
            Value::Integer(-12),
            Value::bulk("x\r\ny"),
            Value::Bulk(None),
            Value::Array(None),
            Value::Array(Some(vec![Value::Integer(1)])),
        ]));
        let bytes = v.to_bytes();
        assert_eq!(
            parse_value(&bytes, &Limits::default()),
            Ok(Parsed::Done(v, bytes.len()))
        );
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_value(&bytes[..cut], &Limits::default()),
                Ok(Parsed::Incomplete)
            );
        }
    }

    #[test]
    fn status_lines_cannot_break_the_framing() {
        assert_eq!(Value::error("ERR a\r\nb").to_bytes(), b"-ERR a  b\r\n");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "*1\r\n".repeat(20);
        let e = parse_value(deep.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!(e.reason, "arrays nested too deep");
    }
}
