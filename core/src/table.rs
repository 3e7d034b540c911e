//! A hospital's tabular file, read as it comes: comma-, tab-, semicolon-,
//! pipe- or whitespace-separated (sniffed from the header line, or named in
//! config), plain or gzip-compressed, or Parquet (both known by their magic
//! bytes; `crate::parquet_table`).
//!
//! Every error names the file, and for a cell its line (the header is line
//! 1; in Parquet, its row) and column; they are all raised while reading,
//! before any training.

use crate::dataset::TargetScale;
use crate::{CoreError, TrainSpec};
use std::io::Read;
use std::path::Path;

/// How the fields of a line are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    /// One byte, with CSV quoting: `,`, `\t`, `;` or `|`.
    Byte(u8),
    /// Runs of spaces or tabs; quotes are refused.
    Whitespace,
}

impl Delimiter {
    /// A configured delimiter: `","`, `";"`, `"|"`, `"\t"` or `"tab"`, or
    /// `"whitespace"`.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match s {
            "," | ";" | "|" => Ok(Self::Byte(s.as_bytes()[0])),
            "\t" | "tab" => Ok(Self::Byte(b'\t')),
            "whitespace" | " " => Ok(Self::Whitespace),
            other => {
                Err(CoreError::InvalidSpec(format!("delimiter {other:?} is not one of \",\", \";\", \"|\", \"tab\" or \"whitespace\"")))
            }
        }
    }

    /// The delimiter a header line uses: the most frequent of `,` `\t` `;`
    /// `|`; whitespace when there is none of them but a space; `,` for a
    /// single column.
    pub fn sniff(header: &str) -> Self {
        // delimiters inside quoted names do not count
        let outside: String = unquoted(header).collect();
        let best = [b',', b'\t', b';', b'|']
            .into_iter()
            .map(|d| (outside.bytes().filter(|&b| b == d).count(), d))
            .max_by_key(|&(n, d)| (n, std::cmp::Reverse(d)));
        match best {
            Some((n, d)) if n > 0 => Self::Byte(d),
            _ if outside.trim().contains(char::is_whitespace) => Self::Whitespace,
            _ => Self::Byte(b','),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Byte(b',') => "comma",
            Self::Byte(b'\t') => "tab",
            Self::Byte(b';') => "semicolon",
            Self::Byte(b'|') => "pipe",
            Self::Byte(_) => "one-byte",
            Self::Whitespace => "whitespace",
        }
    }
}

/// A numeric table with a header row.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The file it was read from.
    pub source: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of values, every one finite.
    pub rows: Vec<Vec<f64>>,
    /// Where each row is in the file: its line (the header is line 1), or
    /// for Parquet its row number (the first is 1).
    pub lines: Vec<u64>,
    /// What [`lines`](Self::lines) count: `"line"` or `"row"`.
    pub place: &'static str,
}

/// A cell's text as quoted in a message: at most 40 characters.
pub(crate) fn quote(v: &str) -> String {
    match v.char_indices().nth(40) {
        Some((end, _)) => format!("{:?}…", &v[..end]),
        None => format!("{v:?}"),
    }
}

/// Most bytes of text a data file may hold, after decompression: tables are
/// read whole, and a small gzip file can expand enormously.
pub const MAX_TEXT_BYTES: u64 = 1 << 30;

/// The file's bytes, decompressed when it is gzip; at most
/// [`MAX_TEXT_BYTES`].
fn contents(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut raw = vec![];
    file.take(MAX_TEXT_BYTES + 1).read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = vec![];
        flate2::read::MultiGzDecoder::new(&raw[..]).take(MAX_TEXT_BYTES + 1).read_to_end(&mut out).map_err(|e| format!("gzip: {e}"))?;
        out
    } else {
        raw
    };
    if text.len() as u64 > MAX_TEXT_BYTES {
        return Err(format!("holds more than {} MiB of text (after decompression); split it", MAX_TEXT_BYTES >> 20));
    }
    Ok(text)
}

/// Line numbers of byte offsets in a text.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self { text, newlines: text.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i).collect() }
    }

    /// The line of the first content at or after `byte`: the csv crate
    /// places a record after a CRLF or a blank line at the line end before
    /// it, so line ends are skipped first.
    fn line(&self, byte: u64) -> u64 {
        let mut at = (byte as usize).min(self.text.len());
        while at < self.text.len() && matches!(self.text[at], b'\r' | b'\n') {
            at += 1;
        }
        self.newlines.partition_point(|&n| n < at) as u64 + 1
    }
}

/// The characters of `text` outside double quotes.
fn unquoted(text: &str) -> impl Iterator<Item = char> + '_ {
    let mut quoted = false;
    text.chars().filter(move |&c| {
        if c == '"' {
            quoted = !quoted;
        }
        !quoted && c != '"'
    })
}

impl Table {
    /// Reads a table, its delimiter sniffed from the header line.
    pub fn read(path: &Path) -> Result<Self, CoreError> {
        Self::read_with(path, None)
    }

    /// Reads a table with a header row, separated by `delimiter` (sniffed
    /// when `None`); every cell must be a finite number.
    /// Parquet files are known by their first bytes; `delimiter` does not
    /// apply to them.
    pub fn read_with(path: &Path, configured: Option<Delimiter>) -> Result<Self, CoreError> {
        let source = path.display().to_string();
        let err = |m: String| CoreError::Csv(format!("{source}: {m}"));
        if crate::parquet_table::is_parquet(path) {
            return crate::parquet_table::read(path);
        }
        let bytes = contents(path).map_err(err)?;
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let index = LineIndex::new(bytes);
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            return Err(err(not_text(index.line(nul as u64))));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(err("the file is empty".into()));
        }
        let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let header = std::str::from_utf8(header).map_err(|_| err(not_text(1)))?;
        let delimiter = configured.unwrap_or_else(|| Delimiter::sniff(header));
        let how = format!(
            "the file was read as {}-separated ({}): if it is separated otherwise, set `delimiter`",
            delimiter.describe(),
            if configured.is_some() { "as configured" } else { "found in the header line" }
        );
        let mut table = Self { source: source.clone(), columns: vec![], rows: vec![], lines: vec![], place: "line" };
        match delimiter {
            Delimiter::Byte(b) => table.read_delimited(bytes, b, &index, &how)?,
            Delimiter::Whitespace => table.read_whitespace(bytes, &index, &how)?,
        }
        if table.rows.is_empty() {
            return Err(err("no rows under the header line".into()));
        }
        Ok(table)
    }

    fn fail(&self, m: String) -> CoreError {
        CoreError::Csv(format!("{}: {m}", self.source))
    }

    /// Checks the column names of a Parquet file's schema (numbers are
    /// names there: pandas writes integer column names as "0", "1", ...).
    pub(crate) fn check_names(&self) -> Result<(), CoreError> {
        check_names(&self.columns).map_err(|m| self.fail(m.replace("line 1", "the schema")))?;
        if self.columns.len() < 2 {
            return Err(self.fail("has one column, a table needs a label and a feature".into()));
        }
        Ok(())
    }

    /// Checks the header and takes its names.
    fn header(&mut self, names: Vec<String>, how: &str) -> Result<(), CoreError> {
        check_header(&names).map_err(|m| self.fail(m))?;
        if names.len() < 2 {
            return Err(self.fail(format!("line 1 names one column, a table needs a label and a feature; {how}")));
        }
        self.columns = names;
        Ok(())
    }

    /// Parses one record's cells at `line`.
    fn push<'c>(&mut self, line: u64, cells: impl Iterator<Item = &'c str>) -> Result<(), CoreError> {
        let row = cells
            .zip(&self.columns)
            .map(|(v, col)| match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                Ok(_) => Err(format!("line {line}, column {col}: {} is not a finite number", quote(v))),
                Err(_) => Err(format!("line {line}, column {col}: {} is not a number", quote(v))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| self.fail(m))?;
        self.rows.push(row);
        self.lines.push(line);
        Ok(())
    }

    /// A csv error with the line it is on, in the file's numbering.
    fn csv_error(&self, e: csv::Error, index: &LineIndex<'_>, how: &str) -> CoreError {
        let line = |pos: &Option<csv::Position>| pos.as_ref().map_or(0, |p| index.line(p.byte()));
        match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
                self.fail(format!("line {}: {len} fields where the header has {expected_len}; {how}", line(pos)))
            }
            csv::ErrorKind::Utf8 { pos, .. } => self.fail(not_text(line(pos))),
            _ => self.fail(e.to_string()),
        }
    }

    fn read_delimited(&mut self, text: &[u8], delimiter: u8, index: &LineIndex<'_>, how: &str) -> Result<(), CoreError> {
        let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text);
        let names = rdr.headers().map_err(|e| self.csv_error(e, index, how))?.iter().map(|c| c.trim().to_string()).collect();
        self.header(names, how)?;
        for rec in rdr.records() {
            let rec = rec.map_err(|e| self.csv_error(e, index, how))?;
            let line = rec.position().map_or(0, |p| index.line(p.byte()));
            self.push(line, rec.iter())?;
        }
        Ok(())
    }

    /// Runs of spaces and tabs separate fields; quotes are refused (a name
    /// with a space needs a delimited file).
    fn read_whitespace(&mut self, bytes: &[u8], index: &LineIndex<'_>, how: &str) -> Result<(), CoreError> {
        let text = std::str::from_utf8(bytes).map_err(|e| self.fail(not_text(index.line(e.valid_up_to() as u64))))?;
        let mut lines = text.split('\n').zip(1u64..).filter(|(l, _)| !l.trim().is_empty());
        for (l, n) in text.split('\n').zip(1u64..) {
            if l.contains('"') {
                return Err(self.fail(format!(
                    "line {n}: quotes are not read in a whitespace-separated file; use a comma- or tab-separated one for quoted names"
                )));
            }
        }
        if let Some((header, _)) = lines.next() {
            self.header(header.split_whitespace().map(str::to_string).collect(), how)?;
        }
        for (l, n) in lines {
            let cells: Vec<&str> = l.split_whitespace().collect();
            if cells.len() != self.columns.len() {
                return Err(self.fail(format!("line {n}: {} fields where the header has {}; {how}", cells.len(), self.columns.len())));
            }
            self.push(n, cells.into_iter())?;
        }
        Ok(())
    }

    /// Reads a table whose column `label` holds labels: separated by
    /// `delimiter` as configured ([`Delimiter::parse`]; sniffed when
    /// `None`), every label checked against the spec's task (regression
    /// targets standardized by `target`) while lines still match the file.
    pub fn read_labelled(
        path: &Path,
        delimiter: Option<&str>,
        label: &str,
        spec: &TrainSpec,
        target: Option<&TargetScale>,
    ) -> Result<Self, CoreError> {
        let table = Self::read_configured(path, delimiter)?;
        table.check_labels(label, spec, target)?;
        Ok(table)
    }

    /// Reads a table separated by `delimiter` as configured
    /// ([`Delimiter::parse`]; sniffed when `None`).
    pub fn read_configured(path: &Path, delimiter: Option<&str>) -> Result<Self, CoreError> {
        Self::read_with(path, delimiter.map(Delimiter::parse).transpose()?)
    }

    /// Checks every label against the task (0 or 1; a class; a target the
    /// format holds, once standardized by `target`), naming the file, line
    /// and column of the first bad one.
    pub fn check_labels(&self, label: &str, spec: &TrainSpec, target: Option<&TargetScale>) -> Result<(), CoreError> {
        let l = self.column(label)?;
        for (row, line) in self.rows.iter().zip(&self.lines) {
            if let Err(why) = crate::dataset::label_value(row[l], spec, target) {
                return Err(CoreError::Csv(format!("{}: {} {line}, column {label}: {why}", self.source, self.place)));
            }
        }
        Ok(())
    }

    /// Index of a named column.
    pub fn column(&self, name: &str) -> Result<usize, CoreError> {
        self.columns
            .iter()
            .position(|c| c == name.trim())
            .ok_or_else(|| CoreError::Csv(format!("{}: no column named {name:?} (columns: {})", self.source, self.columns.join(", "))))
    }

    /// Features (the named columns, or all but the label) and labels.
    pub fn select(&self, features: Option<&[String]>, label: &str) -> Result<(Vec<Vec<f64>>, Vec<f64>), CoreError> {
        let cols = self.feature_columns(features, label)?;
        let l = self.column(label)?;
        let x = self.rows.iter().map(|r| cols.iter().map(|&c| r[c]).collect()).collect();
        let y = self.rows.iter().map(|r| r[l]).collect();
        Ok((x, y))
    }

    /// [`select`](Self::select), refused unless it gives the spec's number
    /// of features.
    pub fn select_for(&self, features: Option<&[String]>, label: &str, spec: &TrainSpec) -> Result<(Vec<Vec<f64>>, Vec<f64>), CoreError> {
        let cols = self.feature_columns(features, label)?;
        let want = spec.model.features;
        if cols.len() != want {
            let names: Vec<&str> = cols.iter().map(|&c| self.columns[c].as_str()).collect();
            let which = if features.is_some() { "named in `features`" } else { "(every column but the label)" };
            return Err(CoreError::Csv(format!(
                "{}: {} feature columns {which}: {}; the spec's model.features is {want}: name the features in \
                 `features = [...]` or change model.features",
                self.source,
                cols.len(),
                names.join(", ")
            )));
        }
        self.select(features, label)
    }

    /// Indices of the feature columns: the named ones, or all but the label.
    pub fn feature_columns(&self, features: Option<&[String]>, label: &str) -> Result<Vec<usize>, CoreError> {
        let l = self.column(label)?;
        match features {
            Some(names) => names.iter().map(|n| self.column(n)).collect(),
            None => Ok((0..self.columns.len()).filter(|&c| c != l).collect()),
        }
    }
}

fn not_text(line: u64) -> String {
    format!(
        "line {line} is not UTF-8 text: a spreadsheet or another binary format, or text in another encoding \
         (save it as CSV UTF-8)? Candor reads comma-, tab-, semicolon-, pipe- or whitespace-separated UTF-8 text, \
         plain or gzip-compressed"
    )
}

/// A header names its columns: not numbers (a file without a header line),
/// none empty, none twice.
fn check_header(columns: &[String]) -> Result<(), String> {
    if columns.iter().all(|c| c.parse::<f64>().is_ok()) {
        return Err(format!(
            "line 1 holds numbers ({}), not column names: the first line must name the columns (the study names its \
             label column among them); add a header line",
            quote(&columns.join(","))
        ));
    }
    check_names(columns)
}

/// Names that are present and distinct.
fn check_names(columns: &[String]) -> Result<(), String> {
    if let Some(i) = columns.iter().position(String::is_empty) {
        return Err(format!("line 1: column {} has no name", i + 1));
    }
    let mut seen = std::collections::HashSet::new();
    match columns.iter().find(|c| !seen.insert(c.as_str())) {
        Some(c) => Err(format!("line 1: column name {c:?} appears twice")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read(bytes: &[u8], delimiter: Option<Delimiter>) -> Result<Table, String> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        Table::read_with(f.path(), delimiter).map_err(|e| e.to_string())
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_separator_and_gzip_read_the_same_table() {
        let want = read(b"a,b,y\n1,2,0\n3.5,-4,1\n", None).unwrap();
        assert_eq!(want.columns, ["a", "b", "y"]);
        for text in
            ["a\tb\ty\n1\t2\t0\n3.5\t-4\t1\n", "a;b;y\n1;2;0\n3.5;-4;1\n", "a|b|y\n1|2|0\n3.5|-4|1\n", "  a  b   y\n1 2\t0\n 3.5  -4 1 \n"]
        {
            let t = read(text.as_bytes(), None).unwrap();
            assert_eq!((&t.columns, &t.rows, &t.lines), (&want.columns, &want.rows, &want.lines), "{text:?}");
            let t = read(&gzip(text), None).unwrap();
            assert_eq!(t.rows, want.rows, "gzip of {text:?}");
        }
        // a byte-order mark and Windows line ends, line numbers included
        let t = read("\u{feff}a,b,y\r\n1,2,0\r\n3.5,-4,1\r\n".as_bytes(), None).unwrap();
        assert_eq!((&t.rows, &t.lines), (&want.rows, &want.lines));
    }

    #[test]
    fn lines_are_the_files_after_crlf_and_blank_lines() {
        assert_eq!(read(b"a,b,y\n1,2,0\n\n\n3,4,1\n", None).unwrap().lines, [2, 5]);
        assert_eq!(read(b"a b y\n1 2 0\n\n3 4 1\n", None).unwrap().lines, [2, 4]);
        let e = read(b"a,b,y\r\n1,2,0\r\n1,x,0\r\n", None).unwrap_err();
        assert!(e.contains("line 3, column b"), "{e}");
        let e = read(b"a,b,y\r\n1,2,0\r\n\r\n1,2\r\n", None).unwrap_err();
        assert!(e.contains("line 4: 2 fields"), "{e}");
    }

    #[test]
    fn quoted_names_neither_sniff_nor_split() {
        let t = read(b"\"weight; kg\",\"height; cm\",y\n1,2,0\n", None).unwrap();
        assert_eq!(t.columns, ["weight; kg", "height; cm", "y"]);
        let e = read(b"\"patient age\" b y\n1 2 0\n", Some(Delimiter::Whitespace)).unwrap_err();
        assert!(e.contains("line 1: quotes are not read"), "{e}");
        let e = read(b"a\n1\n2\n", None).unwrap_err();
        assert!(e.contains("names one column") && e.contains("set `delimiter`"), "{e}");
    }

    #[test]
    fn an_empty_file_is_called_empty() {
        for empty in [&b""[..], "\u{feff}".as_bytes(), b"\r", b"\n\n", &gzip("")] {
            let e = read(empty, None).unwrap_err();
            assert!(e.contains("the file is empty"), "{empty:?}: {e}");
        }
    }

    #[test]
    fn a_file_without_a_header_line_is_refused_with_advice() {
        for text in ["1,2,0\n3,4,1\n", "5.1 3.5 1.4 0\n4.9 3.0 1.4 0\n"] {
            let e = read(text.as_bytes(), None).unwrap_err();
            assert!(e.contains("line 1 holds numbers") && e.contains("add a header line"), "{e}");
        }
        assert!(read(b"a,,y\n1,2,0\n", None).unwrap_err().contains("column 2 has no name"));
        assert!(read(b"a,a,y\n1,2,0\n", None).unwrap_err().contains("\"a\" appears twice"));
        assert!(read(b"a,b,y\n", None).unwrap_err().contains("no rows"));
    }

    #[test]
    fn a_ragged_line_names_its_line_and_the_delimiter_it_was_read_with() {
        let e = read(b"a,b,y\n1,2,0\n1,2,0,4\n", None).unwrap_err();
        assert!(e.contains("line 3: 4 fields where the header has 3") && e.contains("comma-separated"), "{e}");
        // a semicolon file read as configured with commas
        let e = read(b"a;b;y\n1;2;0\n", Some(Delimiter::Byte(b','))).unwrap_err();
        assert!(e.contains("names one column") && e.contains("comma-separated (as configured)"), "{e}");
    }

    #[test]
    fn binary_files_are_refused_as_not_text() {
        let e = read(b"PK\x03\x04\xff\xfe\x00binary", None).unwrap_err();
        assert!(e.contains("line 1 is not UTF-8 text"), "{e}");
        let e = read(&[0x1f, 0x8b, 0, 1, 2], None).unwrap_err();
        assert!(e.contains("gzip"), "{e}");
        // UTF-16 text (Excel's "Unicode Text") has NUL bytes
        let e = read(b"a\x00,\x00b\x00\n\x001\x00", None).unwrap_err();
        assert!(e.contains("line 1 is not UTF-8 text") && e.contains("encoding"), "{e}");
    }

    #[test]
    fn configured_delimiters_parse() {
        assert_eq!(Delimiter::parse("tab").unwrap(), Delimiter::Byte(b'\t'));
        assert_eq!(Delimiter::parse(";").unwrap(), Delimiter::Byte(b';'));
        assert_eq!(Delimiter::parse("whitespace").unwrap(), Delimiter::Whitespace);
        assert!(Delimiter::parse("::").unwrap_err().to_string().contains("not one of"));
    }
}
