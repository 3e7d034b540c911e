//! A hospital's tabular file, read as it comes: comma-, tab-, semicolon-,
//! pipe- or whitespace-separated (sniffed from the header line, or named in
//! config), plain or gzip-compressed (known by its magic bytes).
//!
//! Every error names the file, and for a cell its line (the header is line
//! 1) and column; they are all raised while reading, before any training.

use crate::{CoreError, TrainSpec};
use std::io::Read;
use std::path::Path;

/// How the fields of a line are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    /// One byte, with CSV quoting: `,`, `\t`, `;` or `|`.
    Byte(u8),
    /// Runs of spaces or tabs, without quoting (as R's `read.table`).
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
        let best = [b',', b'\t', b';', b'|']
            .into_iter()
            .map(|d| (header.bytes().filter(|&b| b == d).count(), d))
            .max_by_key(|&(n, d)| (n, std::cmp::Reverse(d)));
        match best {
            Some((n, d)) if n > 0 => Self::Byte(d),
            _ if header.trim().contains(char::is_whitespace) => Self::Whitespace,
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
    /// The line in the file of each row (the header is line 1).
    pub lines: Vec<u64>,
}

/// A cell's text as quoted in a message: at most 40 characters.
fn quote(v: &str) -> String {
    match v.char_indices().nth(40) {
        Some((end, _)) => format!("{:?}…", &v[..end]),
        None => format!("{v:?}"),
    }
}

/// The file's bytes, decompressed when it is gzip.
fn contents(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| e.to_string())?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = vec![];
    flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| format!("gzip: {e}"))?;
    Ok(out)
}

impl Table {
    /// Reads a table, its delimiter sniffed from the header line.
    pub fn read(path: &Path) -> Result<Self, CoreError> {
        Self::read_with(path, None)
    }

    /// Reads a table with a header row, separated by `delimiter` (sniffed
    /// when `None`); every cell must be a finite number.
    pub fn read_with(path: &Path, delimiter: Option<Delimiter>) -> Result<Self, CoreError> {
        let source = path.display().to_string();
        let err = |m: String| CoreError::Csv(format!("{source}: {m}"));
        let bytes = contents(path).map_err(err)?;
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let header = std::str::from_utf8(header).map_err(|_| err(not_text(1)))?;
        let delimiter = delimiter.unwrap_or_else(|| Delimiter::sniff(header));
        let sniffed = if delimiter == Delimiter::sniff(header) { "found in the header line" } else { "as configured" };
        let owned;
        let (text, byte) = match delimiter {
            Delimiter::Byte(b) => (bytes, b),
            Delimiter::Whitespace => {
                // one line in, one line out, so line numbers stay the file's
                let text = std::str::from_utf8(bytes).map_err(|e| {
                    let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                    err(not_text(line))
                })?;
                owned = text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(",")).collect::<Vec<_>>().join("\n");
                (owned.as_bytes(), b',')
            }
        };
        let mut rdr = csv::ReaderBuilder::new().delimiter(byte).from_reader(text);
        let explain = |e: csv::Error| match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => err(format!(
                "line {}: {len} fields where the header has {expected_len}; the file was read as {}-separated ({sniffed}): \
                 if it is separated otherwise, set `delimiter`",
                pos.as_ref().map_or(0, |p| p.line()),
                delimiter.describe()
            )),
            csv::ErrorKind::Utf8 { pos, .. } => err(not_text(pos.as_ref().map_or(0, |p| p.line()))),
            _ => err(e.to_string()),
        };
        let columns: Vec<String> = rdr.headers().map_err(explain)?.iter().map(|c| c.trim().to_string()).collect();
        check_header(&columns).map_err(err)?;
        let (mut rows, mut lines) = (Vec::new(), Vec::new());
        for rec in rdr.records() {
            let rec = rec.map_err(explain)?;
            let line = rec.position().map_or(0, |p| p.line());
            let row = rec
                .iter()
                .zip(&columns)
                .map(|(v, col)| match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    Ok(_) => Err(err(format!("line {line}, column {col}: {} is not a finite number", quote(v)))),
                    Err(_) => Err(err(format!("line {line}, column {col}: {} is not a number", quote(v)))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(row);
            lines.push(line);
        }
        if rows.is_empty() {
            return Err(err("no rows under the header line".into()));
        }
        Ok(Self { source, columns, rows, lines })
    }

    /// Checks every label against the task (0 or 1; a class; a target the
    /// format holds), naming the file, line and column of the first bad one.
    pub fn check_labels(&self, label: &str, spec: &TrainSpec) -> Result<(), CoreError> {
        let l = self.column(label)?;
        for (row, line) in self.rows.iter().zip(&self.lines) {
            if let Err(why) = crate::dataset::label_value(row[l], spec) {
                return Err(CoreError::Csv(format!("{}: line {line}, column {label}: {why}", self.source)));
            }
        }
        Ok(())
    }

    /// Index of a named column.
    pub fn column(&self, name: &str) -> Result<usize, CoreError> {
        self.columns
            .iter()
            .position(|c| c == name)
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

    fn feature_columns(&self, features: Option<&[String]>, label: &str) -> Result<Vec<usize>, CoreError> {
        let l = self.column(label)?;
        match features {
            Some(names) => names.iter().map(|n| self.column(n)).collect(),
            None => Ok((0..self.columns.len()).filter(|&c| c != l).collect()),
        }
    }
}

fn not_text(line: u64) -> String {
    format!(
        "line {line} is not UTF-8 text: is it a spreadsheet or another binary format? Candor reads comma-, tab-, \
         semicolon- or whitespace-separated text, plain or gzip-compressed"
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
    if let Some(i) = columns.iter().position(String::is_empty) {
        return Err(format!("line 1: column {} has no name", i + 1));
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(format!("line 1: column name {c:?} appears twice"));
        }
    }
    Ok(())
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
        // a byte-order mark and Windows line ends
        assert_eq!(read("\u{feff}a,b,y\r\n1,2,0\r\n3.5,-4,1\r\n".as_bytes(), None).unwrap().rows, want.rows);
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
        assert!(e.contains("line 2, column a;b;y") && e.contains("not a number"), "{e}");
    }

    #[test]
    fn binary_files_are_refused_as_not_text() {
        let e = read(b"PK\x03\x04\xff\xfe\x00binary", None).unwrap_err();
        assert!(e.contains("line 1 is not UTF-8 text"), "{e}");
        let e = read(&[0x1f, 0x8b, 0, 1, 2], None).unwrap_err();
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn configured_delimiters_parse() {
        assert_eq!(Delimiter::parse("tab").unwrap(), Delimiter::Byte(b'\t'));
        assert_eq!(Delimiter::parse(";").unwrap(), Delimiter::Byte(b';'));
        assert_eq!(Delimiter::parse("whitespace").unwrap(), Delimiter::Whitespace);
        assert!(Delimiter::parse("::").unwrap_err().to_string().contains("not one of"));
    }
}
