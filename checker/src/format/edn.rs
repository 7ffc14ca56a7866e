//! A reader for EDN, the notation Jepsen and the Clojure tools around it write
//! histories in.
//!
//! [`Reader`] reads values one at a time from a text, keeping their positions (line
//! and column, both 1-based, columns in characters) so that a history's operations
//! and the literals that cannot be read are named where they are. It reads all of
//! EDN and the parts of Clojure's printed output that appear in histories:
//!
//! - `nil`, `true`, `false`; strings with the escapes `\t \b \n \f \r \" \\ \uXXXX`
//!   and octal `\ooo`; characters (`\a`, `\newline`, `\space`, `\tab`, `\return`,
//!   `\backspace`, `\formfeed`, `\uXXXX`, `\oNNN`);
//! - integers (`-12`, `+3`, `12N`, `0x1F`, `017`, `2r101`; those past 64 bits are
//!   kept as [`Edn::BigInt`]), floating point (`1.5`, `1e3`, `##Inf`, `##NaN`),
//!   decimals (`1.5M`), ratios (`3/4`, reduced; `4/2` is the integer 2);
//! - keywords (`:invoke`, `:jepsen.history/op`), symbols (`foo`, `a/b`);
//! - lists `( )`, vectors `[ ]`, maps `{ }` and sets `#{ }`; a map with a namespace
//!   prefix `#:ns{:a 1}` gives its bare keys that namespace;
//! - tagged values `#tag value`: `#inst "..."`, `#uuid "..."`, records
//!   `#jepsen.history.Op{...}`, `#object[...]`, and any other tag, kept as
//!   [`Edn::Tagged`]; regular expressions `#"..."` (tag `regex`) and var quotes
//!   `#'a/b` (tag `var`);
//! - what the reader skips: whitespace and commas, `;` comments and `#!` lines to the
//!   end of the line, `#_` (the next value is discarded) and metadata (`^{...}`,
//!   `^:kw`, `^Sym` before a value). Beyond EDN, a `#` followed by a blank (never
//!   valid EDN) starts a comment to the end of the line, as in the project's JSON
//!   lines files.
//!
//! Values compare as Clojure's `=` does for what histories hold: lists and vectors
//! are one kind ([`Edn::Seq`]); maps and sets are kept sorted, so that equal ones are
//! equal whatever order they were written in (a duplicate key or element is an
//! error, as in Clojure); `12N` is the integer 12. [`Edn::canonical`] prints a value
//! so that two values print the same exactly when they are equal.

use std::fmt;

/// An EDN value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Edn {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits (also written `12N`).
    Int(i64),
    /// An integer past 64 bits, as its decimal digits with an optional `-`.
    BigInt(String),
    /// A floating-point number, printed in its shortest exact form (`1.0`, `1.0e30`,
    /// `##Inf`, `##-Inf`, `##NaN`).
    Float(String),
    /// A decimal (`1.5M`), as written without the `M`.
    Decimal(String),
    /// A ratio in lowest terms, `numerator/denominator` (denominator > 1).
    Ratio(String),
    /// A character.
    Char(char),
    /// A string.
    Str(String),
    /// A keyword, without its colon (`invoke`, `jepsen.history/op`).
    Keyword(String),
    /// A symbol.
    Symbol(String),
    /// A list or a vector.
    Seq(Vec<Edn>),
    /// A set, its elements sorted.
    Set(Vec<Edn>),
    /// A map, its entries sorted by key.
    Map(Vec<(Edn, Edn)>),
    /// A tagged value: `#inst "..."` is `Tagged("inst", Str(..))`.
    Tagged(String, Box<Edn>),
}

impl Edn {
    /// The value of keyword `key` in a map, or in a tagged map (a record such as
    /// `#jepsen.history.Op{...}`).
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self.as_map()? {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The map itself, or the map inside a tagged map (a record).
    pub fn as_map(&self) -> Option<&Edn> {
        match self {
            Edn::Map(_) => Some(self),
            Edn::Tagged(_, inner) if matches!(**inner, Edn::Map(_)) => Some(inner),
            _ => None,
        }
    }

    /// The items of a list, vector or set.
    pub fn items(&self) -> Option<&[Edn]> {
        match self {
            Edn::Seq(items) | Edn::Set(items) => Some(items),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Edn::Nil => "nil",
            Edn::Bool(_) => "a boolean",
            Edn::Int(_) | Edn::BigInt(_) => "an integer",
            Edn::Float(_) | Edn::Decimal(_) | Edn::Ratio(_) => "a number",
            Edn::Char(_) => "a character",
            Edn::Str(_) => "a string",
            Edn::Keyword(_) => "a keyword",
            Edn::Symbol(_) => "a symbol",
            Edn::Seq(_) => "a vector",
            Edn::Set(_) => "a set",
            Edn::Map(_) => "a map",
            Edn::Tagged(..) => "a tagged value",
        }
    }

    /// The value printed so that equal values print the same and different values
    /// differently (the [`fmt::Display`] form: strings quoted, sets and maps
    /// sorted, lists as vectors).
    pub fn canonical(&self) -> String {
        self.to_string()
    }
}

/// An EDN string literal of `s`.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn char_literal(c: char) -> String {
    match c {
        '\n' => "\\newline".into(),
        ' ' => "\\space".into(),
        '\t' => "\\tab".into(),
        '\r' => "\\return".into(),
        '\u{8}' => "\\backspace".into(),
        '\u{c}' => "\\formfeed".into(),
        c if c.is_control() || c.is_whitespace() => format!("\\u{:04x}", c as u32),
        c => format!("\\{c}"),
    }
}

fn write_items(f: &mut fmt::Formatter<'_>, items: &[Edn]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edn::Nil => f.write_str("nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::BigInt(s) => write!(f, "{s}N"),
            Edn::Float(s) | Edn::Ratio(s) => f.write_str(s),
            Edn::Decimal(s) => write!(f, "{s}M"),
            Edn::Char(c) => f.write_str(&char_literal(*c)),
            Edn::Str(s) => f.write_str(&string_literal(s)),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => f.write_str(s),
            Edn::Seq(items) => {
                f.write_str("[")?;
                write_items(f, items)?;
                f.write_str("]")
            }
            Edn::Set(items) => {
                f.write_str("#{")?;
                write_items(f, items)?;
                f.write_str("}")
            }
            Edn::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
            Edn::Tagged(tag, v) => match (tag.as_str(), &**v) {
                ("regex", Edn::Str(s)) => write!(f, "#\"{s}\""),
                ("var", v) => write!(f, "#'{v}"),
                (_, v @ (Edn::Map(_) | Edn::Seq(_))) => write!(f, "#{tag}{v}"),
                (_, v) => write!(f, "#{tag} {v}"),
            },
        }
    }
}

/// A place in the text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A reading error at a place in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for EdnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for EdnError {}

/// A value read at the top of a history, with where it starts and, when it is a map
/// (or a tagged map), where each of its values starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub value: Edn,
    /// For a map: each keyword key's name and where its value starts.
    pub fields: Vec<(String, Pos)>,
}

impl Item {
    /// Where the value of keyword `key` starts, or the item's start.
    pub fn field_pos(&self, key: &str) -> Pos {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.pos, |(_, p)| *p)
    }
}

/// How deeply collections may nest.
const MAX_DEPTH: usize = 256;

/// Reads EDN values from a text, one at a time.
pub struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Byte offsets where lines start, filled as far as the reader has gone.
    line_starts: Vec<usize>,
    scanned: usize,
}

fn is_terminator(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b'"'
                | b';'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'\\'
                | b'^'
                | b'@'
                | b'`'
                | b'~'
        )
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line_starts: vec![0],
            scanned: 0,
        }
    }

    /// The position of byte offset `at`.
    pub fn pos_of(&mut self, at: usize) -> Pos {
        let at = at.min(self.bytes.len());
        while self.scanned < at {
            if self.bytes[self.scanned] == b'\n' {
                self.line_starts.push(self.scanned + 1);
            }
            self.scanned += 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= at);
        let start = self.line_starts[line - 1];
        let column = self.text[start..at].chars().count() + 1;
        Pos { line, column }
    }

    /// The current position.
    pub fn here(&mut self) -> Pos {
        self.pos_of(self.pos)
    }

    fn error_at(&mut self, at: usize, reason: impl Into<String>) -> EdnError {
        let p = self.pos_of(at);
        EdnError {
            line: p.line,
            column: p.column,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Skips whitespace, commas and comments (not `#_` discards).
    fn skip_blank(&mut self) {
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace() || b == b',' {
                self.pos += 1;
            } else if b == b';'
                || (b == b'#'
                    && self
                        .peek_at(1)
                        .is_none_or(|c| c == b'!' || c.is_ascii_whitespace()))
            {
                while let Some(b) = self.peek() {
                    if b == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else if b >= 0x80 {
                // Unicode whitespace (such as a no-break space) is blank too.
                let c = self.text[self.pos..].chars().next().unwrap_or('x');
                if c.is_whitespace() {
                    self.pos += c.len_utf8();
                } else {
                    break;
                }
            } else {
                break;
            }
        }
    }

    /// Skips blanks, `#_` discards and metadata: what may stand before a value.
    fn skip_ignored(&mut self, depth: usize) -> Result<(), EdnError> {
        loop {
            self.skip_blank();
            match (self.peek(), self.peek_at(1)) {
                (Some(b'#'), Some(b'_')) => {
                    let at = self.pos;
                    self.pos += 2;
                    self.skip_ignored(depth)?;
                    if self.at_end_of_form() {
                        return Err(self.error_at(at, "#_ discards nothing: no value follows"));
                    }
                    self.value(depth + 1)?;
                }
                (Some(b'^'), _) | (Some(b'#'), Some(b'^')) => {
                    let at = self.pos;
                    self.pos += if self.peek() == Some(b'^') { 1 } else { 2 };
                    self.skip_ignored(depth)?;
                    if self.at_end_of_form() {
                        return Err(self.error_at(at, "metadata ^ with no value after it"));
                    }
                    let meta = self.value(depth + 1)?;
                    if !matches!(
                        meta,
                        Edn::Map(_) | Edn::Keyword(_) | Edn::Symbol(_) | Edn::Str(_)
                    ) {
                        return Err(self.error_at(
                            at,
                            format!(
                                "metadata must be a map, keyword, symbol or string, found {}",
                                meta.kind()
                            ),
                        ));
                    }
                    self.skip_ignored(depth)?;
                    if self.at_end_of_form() {
                        return Err(self.error_at(at, "metadata ^ with no value after it"));
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn at_end_of_form(&self) -> bool {
        matches!(self.peek(), None | Some(b')' | b']' | b'}'))
    }

    /// True when only blanks, comments and discarded values are left.
    pub fn at_end(&mut self) -> Result<bool, EdnError> {
        self.skip_ignored(0)?;
        Ok(self.peek().is_none())
    }

    /// Reads the next value, or `None` at the end of the text. A closing bracket
    /// with nothing open is an error.
    pub fn next_value(&mut self) -> Result<Option<(Pos, Edn)>, EdnError> {
        if self.at_end()? {
            return Ok(None);
        }
        let pos = self.here();
        let v = self.value(0)?;
        Ok(Some((pos, v)))
    }

    /// If the next value is a list or a vector, enters it (its items are then read
    /// with [`Reader::next_item`] until it returns `None`) and returns its opening
    /// position.
    pub fn enter_seq(&mut self) -> Result<Option<Pos>, EdnError> {
        if self.at_end()? {
            return Ok(None);
        }
        match self.peek() {
            Some(b'[' | b'(') => {
                let pos = self.here();
                self.pos += 1;
                Ok(Some(pos))
            }
            _ => Ok(None),
        }
    }

    /// Reads the next item of the list or vector opened at `open` (by
    /// [`Reader::enter_seq`]), with the positions of its fields when it is a map;
    /// `None` after the closing bracket.
    pub fn next_item(&mut self, open: Pos) -> Result<Option<Item>, EdnError> {
        self.skip_ignored(1)?;
        match self.peek() {
            None => Err(EdnError {
                line: open.line,
                column: open.column,
                reason: "this list or vector is never closed".into(),
            }),
            Some(b']' | b')') => {
                self.pos += 1;
                Ok(None)
            }
            Some(b'}') => Err(self.error_at(self.pos, "unexpected '}'")),
            Some(_) => self.item(1).map(Some),
        }
    }

    /// Reads the next top-level value as an [`Item`], or `None` at the end.
    pub fn next_top_item(&mut self) -> Result<Option<Item>, EdnError> {
        if self.at_end()? {
            return Ok(None);
        }
        self.item(0).map(Some)
    }

    fn item(&mut self, depth: usize) -> Result<Item, EdnError> {
        let pos = self.here();
        let mut fields = Vec::new();
        let value = self.value_with_fields(depth, Some(&mut fields))?;
        Ok(Item { pos, value, fields })
    }

    fn value(&mut self, depth: usize) -> Result<Edn, EdnError> {
        self.value_with_fields(depth, None)
    }

    /// Reads one value (after anything ignored). With `fields`, a map (or tagged
    /// map) records where each of its keyword keys' values starts.
    fn value_with_fields(
        &mut self,
        depth: usize,
        fields: Option<&mut Vec<(String, Pos)>>,
    ) -> Result<Edn, EdnError> {
        if depth > MAX_DEPTH {
            return Err(self.error_at(self.pos, "nested too deeply"));
        }
        self.skip_ignored(depth)?;
        let start = self.pos;
        let Some(b) = self.peek() else {
            return Err(self.error_at(start, "expected a value, found the end of the text"));
        };
        match b {
            b'"' => self.string().map(Edn::Str),
            b'(' | b'[' => {
                self.pos += 1;
                let close = if b == b'(' { b')' } else { b']' };
                Ok(Edn::Seq(self.items(start, close, depth)?))
            }
            b'{' => {
                self.pos += 1;
                self.map(start, depth, None, fields)
            }
            b')' | b']' | b'}' => Err(self.error_at(
                start,
                format!("unexpected '{}': nothing is open here", b as char),
            )),
            b'\\' => self.character(),
            b':' => self.keyword(),
            b'#' => self.dispatch(depth, fields),
            b'\'' | b'`' | b'~' | b'@' => Err(self.error_at(
                start,
                format!(
                    "'{}' (a Clojure reader macro) is not EDN",
                    self.text[start..].chars().next().unwrap_or('?')
                ),
            )),
            _ => {
                let tok = self.token();
                if tok.is_empty() {
                    let c = self.text[start..].chars().next().unwrap_or('?');
                    return Err(self.error_at(start, format!("unexpected character {c:?}")));
                }
                self.atom(start, tok)
            }
        }
    }

    /// The run of non-terminating characters at the reader.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_terminator(b) {
                break;
            }
            if b >= 0x80 {
                let c = self.text[self.pos..].chars().next().unwrap_or('x');
                if c.is_whitespace() {
                    break;
                }
                self.pos += c.len_utf8();
            } else {
                self.pos += 1;
            }
        }
        &self.text[start..self.pos]
    }

    fn items(&mut self, open: usize, close: u8, depth: usize) -> Result<Vec<Edn>, EdnError> {
        let mut items = Vec::new();
        loop {
            self.skip_ignored(depth + 1)?;
            match self.peek() {
                None => {
                    return Err(self.error_at(
                        open,
                        format!("'{}' is never closed", self.bytes[open] as char),
                    ));
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(b @ (b')' | b']' | b'}')) => {
                    let opened = self.pos_of(open);
                    return Err(self.error_at(
                        self.pos,
                        format!(
                            "'{}' closes the '{}' opened at {opened}",
                            b as char, self.bytes[open] as char
                        ),
                    ));
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    /// Reads a map's entries after its `{` (at byte `open`); `ns` qualifies bare
    /// keyword keys (`#:ns{...}`).
    fn map(
        &mut self,
        open: usize,
        depth: usize,
        ns: Option<&str>,
        mut fields: Option<&mut Vec<(String, Pos)>>,
    ) -> Result<Edn, EdnError> {
        let mut entries: Vec<(Edn, Edn, usize)> = Vec::new();
        loop {
            self.skip_ignored(depth + 1)?;
            match self.peek() {
                None => return Err(self.error_at(open, "'{' is never closed")),
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(b @ (b')' | b']')) => {
                    let opened = self.pos_of(open);
                    return Err(self.error_at(
                        self.pos,
                        format!("'{}' closes the '{{' opened at {opened}", b as char),
                    ));
                }
                Some(_) => {
                    let key_at = self.pos;
                    let mut key = self.value(depth + 1)?;
                    if let (Some(ns), Edn::Keyword(k)) = (ns, &key)
                        && !k.contains('/')
                    {
                        key = Edn::Keyword(format!("{ns}/{k}"));
                    }
                    self.skip_ignored(depth + 1)?;
                    if self.at_end_of_form() {
                        return Err(self.error_at(key_at, format!("key {key} has no value")));
                    }
                    let value_at = self.pos;
                    let value = self.value(depth + 1)?;
                    if let (Some(f), Edn::Keyword(k)) = (fields.as_deref_mut(), &key) {
                        let p = self.pos_of(value_at);
                        f.push((k.clone(), p));
                    }
                    entries.push((key, value, key_at));
                }
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for pair in entries.windows(2) {
            if pair[0].0 == pair[1].0 {
                let (first, again) = (pair[0].2.min(pair[1].2), pair[0].2.max(pair[1].2));
                let first = self.pos_of(first);
                return Err(self.error_at(
                    again,
                    format!("duplicate key {} (first at {first})", pair[0].0),
                ));
            }
        }
        Ok(Edn::Map(
            entries.into_iter().map(|(k, v, _)| (k, v)).collect(),
        ))
    }

    fn dispatch(
        &mut self,
        depth: usize,
        fields: Option<&mut Vec<(String, Pos)>>,
    ) -> Result<Edn, EdnError> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut items = self.items(start + 1, b'}', depth)?;
                items.sort();
                for pair in items.windows(2) {
                    if pair[0] == pair[1] {
                        return Err(
                            self.error_at(start, format!("duplicate set element {}", pair[0]))
                        );
                    }
                }
                Ok(Edn::Set(items))
            }
            Some(b'#') => {
                self.pos += 1;
                let tok = self.token();
                let f = match tok {
                    "Inf" => "##Inf",
                    "-Inf" => "##-Inf",
                    "NaN" => "##NaN",
                    _ => {
                        return Err(self.error_at(start, format!("unknown symbolic value ##{tok}")));
                    }
                };
                Ok(Edn::Float(f.to_string()))
            }
            Some(b'"') => {
                // A regular expression: its text is kept as written (no escapes).
                self.pos += 1;
                let from = self.pos;
                loop {
                    match self.peek() {
                        None => return Err(self.error_at(start, "unterminated #\"regex\"")),
                        Some(b'\\') => self.pos += 2,
                        Some(b'"') => break,
                        Some(_) => self.pos += 1,
                    }
                }
                let body = self.text[from..self.pos.min(self.bytes.len())].to_string();
                self.pos += 1;
                Ok(Edn::Tagged("regex".into(), Box::new(Edn::Str(body))))
            }
            Some(b'\'') => {
                self.pos += 1;
                let v = self.value(depth + 1)?;
                Ok(Edn::Tagged("var".into(), Box::new(v)))
            }
            Some(b':') => {
                self.pos += 1;
                let ns = self.token();
                if ns.is_empty() || ns.starts_with(':') {
                    return Err(self.error_at(start, "expected #:namespace{...}"));
                }
                self.skip_blank();
                if self.peek() != Some(b'{') {
                    return Err(self.error_at(start, format!("expected a map after #:{ns}")));
                }
                let open = self.pos;
                self.pos += 1;
                self.map(open, depth, Some(ns), fields)
            }
            Some(b) if b.is_ascii_alphabetic() || b >= 0x80 => {
                let tag = self.token();
                self.skip_ignored(depth)?;
                if self.at_end_of_form() {
                    return Err(self.error_at(start, format!("tag #{tag} has no value")));
                }
                let inner = self.value_with_fields(depth + 1, fields)?;
                Ok(Edn::Tagged(tag.to_string(), Box::new(inner)))
            }
            Some(b'?') => Err(self.error_at(start, "reader conditionals #? are not EDN")),
            Some(b'(') => Err(self.error_at(start, "anonymous functions #(...) are not EDN")),
            _ => Err(self.error_at(start, "'#' must be followed by a tag, '{', '_' or '#'")),
        }
    }

    fn keyword(&mut self) -> Result<Edn, EdnError> {
        let start = self.pos;
        self.pos += 1;
        let name = self.token();
        if name.is_empty() {
            return Err(self.error_at(start, "a keyword needs a name after ':'"));
        }
        if let Some(bare) = name.strip_prefix(':') {
            return Err(self.error_at(
                start,
                format!("::{bare} (an auto-resolved keyword) is not EDN"),
            ));
        }
        if name.ends_with('/') && name != "/" {
            return Err(self.error_at(start, format!("bad keyword :{name}")));
        }
        Ok(Edn::Keyword(name.to_string()))
    }

    fn character(&mut self) -> Result<Edn, EdnError> {
        let start = self.pos;
        self.pos += 1;
        let Some(first) = self.text[self.pos..].chars().next() else {
            return Err(self.error_at(start, "a character literal needs a character after '\\'"));
        };
        if first.is_whitespace() {
            return Err(self.error_at(start, "a character literal needs a character after '\\'"));
        }
        self.pos += first.len_utf8();
        let rest = self.token();
        if rest.is_empty() {
            return Ok(Edn::Char(first));
        }
        let name = format!("{first}{rest}");
        let named = match name.as_str() {
            "newline" => Some('\n'),
            "space" => Some(' '),
            "tab" => Some('\t'),
            "return" => Some('\r'),
            "backspace" => Some('\u{8}'),
            "formfeed" => Some('\u{c}'),
            _ => None,
        };
        if let Some(c) = named {
            return Ok(Edn::Char(c));
        }
        let code = if let Some(hex) = name.strip_prefix('u').filter(|h| h.len() == 4) {
            u32::from_str_radix(hex, 16).ok()
        } else if let Some(oct) = name
            .strip_prefix('o')
            .filter(|o| (1..=3).contains(&o.len()))
        {
            u32::from_str_radix(oct, 8).ok().filter(|&c| c <= 0o377)
        } else {
            None
        };
        match code.and_then(char::from_u32) {
            Some(c) => Ok(Edn::Char(c)),
            None => Err(self.error_at(start, format!("unknown character literal \\{name}"))),
        }
    }

    fn string(&mut self) -> Result<String, EdnError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error_at(start, "this string is never closed"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.error_at(start, "this string is never closed"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'"' => '"',
                        b'\\' => '\\',
                        b'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                            let Some(c) = c.filter(|_| hex.len() == 4) else {
                                return Err(
                                    self.error_at(esc_at, "bad \\u escape: expected 4 hex digits")
                                );
                            };
                            self.pos += 4;
                            c
                        }
                        b'0'..=b'7' => {
                            let mut code = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        code = code * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            if code > 0o377 {
                                return Err(self.error_at(esc_at, "octal escape past \\377"));
                            }
                            char::from_u32(code).unwrap_or('\0')
                        }
                        _ => {
                            let c = self.text[esc_at + 1..].chars().next().unwrap_or('?');
                            return Err(self.error_at(esc_at, format!("unknown escape \\{c}")));
                        }
                    };
                    out.push(c);
                }
                _ => {
                    let c = self.text[self.pos..].chars().next().unwrap_or('?');
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// A token that is not a string, collection, keyword or character: `nil`,
    /// `true`, `false`, a number or a symbol.
    fn atom(&mut self, start: usize, tok: &str) -> Result<Edn, EdnError> {
        match tok {
            "nil" => return Ok(Edn::Nil),
            "true" => return Ok(Edn::Bool(true)),
            "false" => return Ok(Edn::Bool(false)),
            _ => {}
        }
        let b = tok.as_bytes();
        let numeric = b[0].is_ascii_digit()
            || (b.len() > 1 && matches!(b[0], b'+' | b'-') && b[1].is_ascii_digit());
        if !numeric {
            if tok != "/" && (tok.starts_with('/') || tok.ends_with('/')) {
                return Err(self.error_at(start, format!("bad symbol {tok}")));
            }
            return Ok(Edn::Symbol(tok.to_string()));
        }
        number(tok).ok_or_else(|| self.error_at(start, format!("cannot read {tok:?} as a number")))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn integer(negative: bool, magnitude: u128) -> Edn {
    let signed = if negative {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).ok()
    };
    match signed.and_then(|v| i64::try_from(v).ok()) {
        Some(v) => Edn::Int(v),
        None => Edn::BigInt(format!("{}{magnitude}", if negative { "-" } else { "" })),
    }
}

/// Reads a numeric token; `None` when it is not a number.
fn number(tok: &str) -> Option<Edn> {
    let (negative, body) = match tok.as_bytes()[0] {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    let sign = if negative { "-" } else { "" };
    // Ratio.
    if let Some((n, d)) = body.split_once('/') {
        if !n.bytes().all(|c| c.is_ascii_digit()) || !d.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (n, d) = (n.parse::<u128>().ok()?, d.parse::<u128>().ok()?);
        if d == 0 {
            return None;
        }
        let g = gcd(n, d).max(1);
        let (n, d) = (n / g, d / g);
        if d == 1 {
            return Some(integer(negative, n));
        }
        let sign = if negative && n != 0 { "-" } else { "" };
        return Some(Edn::Ratio(format!("{sign}{n}/{d}")));
    }
    // Integers: decimal, hex, octal, radix; an optional N.
    let int_body = body.strip_suffix('N').unwrap_or(body);
    if let Some(hex) = int_body
        .strip_prefix("0x")
        .or_else(|| int_body.strip_prefix("0X"))
    {
        return u128::from_str_radix(hex, 16)
            .ok()
            .filter(|_| !hex.is_empty() && !hex.starts_with('+'))
            .map(|m| integer(negative, m));
    }
    if let Some((radix, digits)) = int_body.split_once(['r', 'R'])
        && !radix.is_empty()
        && radix.bytes().all(|c| c.is_ascii_digit())
    {
        let radix: u32 = radix.parse().ok().filter(|r| (2..=36).contains(r))?;
        if body.ends_with('N') || digits.is_empty() {
            return None;
        }
        return u128::from_str_radix(digits, radix)
            .ok()
            .map(|m| integer(negative, m));
    }
    if int_body.bytes().all(|c| c.is_ascii_digit()) && !int_body.is_empty() {
        if int_body.len() > 1 && int_body.starts_with('0') {
            return u128::from_str_radix(&int_body[1..], 8)
                .ok()
                .map(|m| integer(negative, m));
        }
        return match int_body.parse::<u128>() {
            Ok(m) => Some(integer(negative, m)),
            Err(_) => Some(Edn::BigInt(format!(
                "{sign}{}",
                int_body.trim_start_matches('0')
            ))),
        };
    }
    // Decimals and floats.
    let (float_body, decimal) = match body.strip_suffix('M') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let valid = {
        let (mantissa, exp) = match float_body.split_once(['e', 'E']) {
            Some((m, e)) => (m, Some(e)),
            None => (float_body, None),
        };
        let (int_part, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (mantissa, None),
        };
        !int_part.is_empty()
            && int_part.bytes().all(|c| c.is_ascii_digit())
            && frac.is_none_or(|f| f.bytes().all(|c| c.is_ascii_digit()))
            && exp.is_none_or(|e| {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
            })
            && (frac.is_some() || exp.is_some() || decimal)
    };
    if !valid {
        return None;
    }
    if decimal {
        return Some(Edn::Decimal(format!("{sign}{float_body}")));
    }
    let v: f64 = format!("{sign}{float_body}").parse().ok()?;
    Some(Edn::Float(if v.is_nan() {
        "##NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "##Inf" } else { "##-Inf" }.to_string()
    } else {
        format!("{v:?}")
    }))
}

/// Reads one value from `text`; returns it and the rest of the text after it.
pub fn parse_value(text: &str) -> Result<(Edn, &str), EdnError> {
    let mut r = Reader::new(text);
    let v = r.value(0)?;
    Ok((v, &text[r.pos..]))
}

/// Reads `text` as exactly one value (blanks, comments and discarded values may
/// follow it).
pub fn parse_all(text: &str) -> Result<Edn, EdnError> {
    let mut r = Reader::new(text);
    let v = r.value(0)?;
    if !r.at_end()? {
        return Err(r.error_at(r.pos, "unexpected text after the value"));
    }
    Ok(v)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn kw(s: &str) -> Edn {
        Edn::Keyword(s.into())
    }

    fn read(text: &str) -> Edn {
        parse_all(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn fails(text: &str) -> EdnError {
        match parse_all(text) {
            Ok(v) => panic!("{text}: read as {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn reads_jepsen_maps() {
        let v = read(r#"{:process 3, :type :invoke, :f :append, :key "4", :value "x 3 12 y"}"#);
        assert_eq!(v.get("process"), Some(&Edn::Int(3)));
        assert_eq!(v.get("type"), Some(&kw("invoke")));
        assert_eq!(v.get("value"), Some(&Edn::Str("x 3 12 y".into())));
        assert_eq!(v.get("missing"), None);
        let v = read(r#"{:value nil :f :cas :v [1 -4] :s "a\"b\\n"}"#);
        assert_eq!(v.get("value"), Some(&Edn::Nil));
        assert_eq!(v.get("v"), Some(&Edn::Seq(vec![Edn::Int(1), Edn::Int(-4)])));
        assert_eq!(v.get("s"), Some(&Edn::Str("a\"b\\n".into())));
    }

    #[test]
    fn scalars() {
        assert_eq!(read("nil"), Edn::Nil);
        assert_eq!(read("true"), Edn::Bool(true));
        assert_eq!(read("-12"), Edn::Int(-12));
        assert_eq!(read("+7"), Edn::Int(7));
        assert_eq!(read("12N"), Edn::Int(12));
        assert_eq!(read("0x1F"), Edn::Int(31));
        assert_eq!(read("017"), Edn::Int(15));
        assert_eq!(read("2r101"), Edn::Int(5));
        assert_eq!(read("-9223372036854775808"), Edn::Int(i64::MIN));
        assert_eq!(
            read("9223372036854775808"),
            Edn::BigInt("9223372036854775808".into())
        );
        assert_eq!(
            read("123456789012345678901234567890123456789012N"),
            Edn::BigInt("123456789012345678901234567890123456789012".into())
        );
        assert_eq!(read("1.5"), Edn::Float("1.5".into()));
        assert_eq!(read("1e3"), Edn::Float("1000.0".into()));
        assert_eq!(read("-2.50E-1"), Edn::Float("-0.25".into()));
        assert_eq!(read("1.50M"), Edn::Decimal("1.50".into()));
        assert_eq!(read("1M"), Edn::Decimal("1".into()));
        assert_eq!(read("##Inf"), Edn::Float("##Inf".into()));
        assert_eq!(read("##NaN"), Edn::Float("##NaN".into()));
        assert_eq!(read("3/4"), Edn::Ratio("3/4".into()));
        assert_eq!(read("-6/8"), Edn::Ratio("-3/4".into()));
        assert_eq!(read("4/2"), Edn::Int(2));
        assert_eq!(read(r"\a"), Edn::Char('a'));
        assert_eq!(read(r"\newline"), Edn::Char('\n'));
        assert_eq!(read(r"\u00e9"), Edn::Char('é'));
        assert_eq!(read(r"\o101"), Edn::Char('A'));
        assert_eq!(read(r"\("), Edn::Char('('));
        assert_eq!(read(r"\é"), Edn::Char('é'));
        assert_eq!(read(":a/b"), kw("a/b"));
        assert_eq!(read("foo/bar"), Edn::Symbol("foo/bar".into()));
        assert_eq!(read("/"), Edn::Symbol("/".into()));
        assert_eq!(read("-"), Edn::Symbol("-".into()));
        assert_eq!(read("->x"), Edn::Symbol("->x".into()));
        assert_eq!(
            read(r#""tab\there \u0041\101 é""#),
            Edn::Str("tab\there AA é".into())
        );
        assert_eq!(read("\"two\nlines\""), Edn::Str("two\nlines".into()));
    }

    #[test]
    fn collections_compare_as_clojure_does() {
        assert_eq!(read("(1 2)"), read("[1 2]"));
        assert_eq!(read("#{3 1 2}"), read("#{1 2 3}"));
        assert_eq!(read("{:b 2 :a 1}"), read("{:a 1, :b 2}"));
        assert_ne!(read("[1 2]"), read("[2 1]"));
        assert_eq!(read("#{}"), Edn::Set(vec![]));
        assert_eq!(read("{}"), Edn::Map(vec![]));
        assert_eq!(read("#{1 2}").canonical(), "#{1 2}");
        assert_eq!(
            read(r#"{:b "x" :a [1 (2)] :c #{:z :y} :d \c}"#).canonical(),
            r#"{:a [1 [2]], :b "x", :c #{:y :z}, :d \c}"#
        );
        // Every value reads back from its canonical form as itself.
        for text in [
            r#"[nil true -1 9223372036854775808N 1.5 2.5M 3/4 \space "q\"\n" :k s #{1} {:a 1} #inst "2024"]"#,
            r#"#jepsen.history.Op{:index 0, :type :ok}"#,
            r#"#"a\d+""#,
            "##-Inf",
        ] {
            let v = read(text);
            assert_eq!(read(&v.canonical()), v, "{text}");
        }
    }

    #[test]
    fn tags_metadata_discards_and_comments() {
        let v = read(r#"#inst "2024-01-01T00:00:00.000-00:00""#);
        assert_eq!(
            v,
            Edn::Tagged(
                "inst".into(),
                Box::new(Edn::Str("2024-01-01T00:00:00.000-00:00".into()))
            )
        );
        let v = read("#jepsen.history.Op{:index 3, :process 1, :type :ok}");
        assert_eq!(v.get("index"), Some(&Edn::Int(3)));
        let v = read("#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"");
        assert!(matches!(v, Edn::Tagged(t, _) if t == "uuid"));
        let v = read("#object[java.lang.Thread 0x1b \"main\"]");
        assert!(matches!(v, Edn::Tagged(t, _) if t == "object"));
        assert_eq!(read("^{:line 3} [1 2]"), read("[1 2]"));
        assert_eq!(read("^:private ^String x"), Edn::Symbol("x".into()));
        assert_eq!(read("[1 #_2 3 #_ #_ 4 5]"), read("[1 3]"));
        assert_eq!(read("[1 #_[2 3]]"), read("[1]"));
        assert_eq!(read("; lead\n[1 ; one\n 2] ; trail"), read("[1 2]"));
        assert_eq!(read("#!shebang\n3"), Edn::Int(3));
        assert_eq!(read("# a comment\n[1 #\n 2]"), read("[1 2]"));
        assert_eq!(read("#:a{:b 1 :c/d 2}"), read("{:a/b 1 :c/d 2}"));
        assert_eq!(
            read(r#"#'clojure.core/map"#).canonical(),
            "#'clojure.core/map"
        );
        assert_eq!(read("[1\u{a0}2]"), read("[1 2]"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = fails(r#"{:process 3, :value "abc}"#);
        assert_eq!((e.line, e.column), (1, 21), "{e}");
        assert!(e.reason.contains("never closed"), "{e}");
        let e = fails("{:process 3 :type}");
        assert!(e.reason.contains("no value"), "{e}");
        assert_eq!(e.column, 13);
        let e = fails("[1 2] 3");
        assert_eq!(e.column, 7);
        let e = fails("12x");
        assert!(e.reason.contains("number"), "{e}");
        // A bad literal in a multi-line map is named where it is, not at the key.
        let e = fails("{:process 3\n :time 12:30\n :type :ok}");
        assert_eq!((e.line, e.column), (2, 8), "{e}");
        let e = fails("{:a 1\n :b 2\n :a 3}");
        assert_eq!((e.line, e.column), (3, 2), "{e}");
        assert!(
            e.reason
                .contains("duplicate key :a (first at line 1, column 2)"),
            "{e}"
        );
        let e = fails("#{1 1}");
        assert!(e.reason.contains("duplicate set element"), "{e}");
        let e = fails("[1 2}");
        assert_eq!((e.line, e.column), (1, 5), "{e}");
        let e = fails("[1\n [2 3]");
        assert_eq!((e.line, e.column), (1, 1), "{e}");
        assert!(fails(r"\bogus").reason.contains("character literal"));
        assert!(fails(r#""\q""#).reason.contains("unknown escape"));
        assert!(fails(r#""\u12""#).reason.contains("\\u"));
        assert!(fails("::auto").reason.contains("auto-resolved"));
        assert!(fails("'quoted").reason.contains("not EDN"));
        assert!(fails("#?(:clj 1)").reason.contains("conditional"));
        assert!(fails("[#_]").reason.contains("discards nothing"));
        assert!(fails("^3 x").reason.contains("metadata"));
        assert!(fails("#inst").reason.contains("no value"));
        assert!(fails("1/0").reason.contains("number"));
        assert!(fails("##Foo").reason.contains("symbolic"));
        assert!(fails(")").reason.contains("nothing is open"));
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert!(fails(&deep).reason.contains("deeply"));
        let e = fails("é [");
        assert_eq!(e.column, 3, "columns count characters: {e}");
    }

    #[test]
    fn items_with_positions() {
        let text = "; history\n[{:index 0\n  :value 1}\n #_{:index 9} {:index 1 :value\n 2}]\n";
        let mut r = Reader::new(text);
        let open = r.enter_seq().unwrap().expect("a vector");
        assert_eq!(open, Pos { line: 2, column: 1 });
        let a = r.next_item(open).unwrap().unwrap();
        assert_eq!(a.pos, Pos { line: 2, column: 2 });
        assert_eq!(
            a.field_pos("value"),
            Pos {
                line: 3,
                column: 10
            }
        );
        let b = r.next_item(open).unwrap().unwrap();
        assert_eq!(
            b.pos,
            Pos {
                line: 4,
                column: 15
            }
        );
        assert_eq!(b.field_pos("value").line, 5);
        assert_eq!(r.next_item(open).unwrap(), None);
        assert!(r.at_end().unwrap());
        let mut r = Reader::new("{:a 1}\n#jepsen.history.Op{:b\n 2}");
        assert_eq!(r.enter_seq().unwrap(), None);
        assert_eq!(r.next_top_item().unwrap().unwrap().pos.line, 1);
        let rec = r.next_top_item().unwrap().unwrap();
        assert_eq!((rec.pos.line, rec.field_pos("b").line), (2, 3));
        assert_eq!(r.next_top_item().unwrap(), None);
    }

    #[test]
    fn parse_value_returns_the_rest() {
        let (v, rest) = parse_value("[1 4]  trailing").unwrap();
        assert_eq!(v, Edn::Seq(vec![Edn::Int(1), Edn::Int(4)]));
        assert_eq!(rest.trim(), "trailing");
    }
}
