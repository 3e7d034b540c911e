//! Parquet files as tables: flat columns of numbers (integers, floats,
//! booleans, or text holding a number), read through the `parquet` crate's
//! row API. Parquet has no lines: errors name the row (the first is row 1)
//! and the column.

use crate::table::{quote, Table, MAX_TEXT_BYTES};
use crate::CoreError;
use parquet::basic::{ConvertedType, LogicalType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::ColumnDescriptor;
use std::path::Path;

/// The magic bytes a Parquet file starts and ends with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// Whether a column holds numbers Candor reads: booleans, integers (not
/// dates, times or decimals), floats, or UTF-8 text (parsed as numbers).
/// Checked before any row is decoded, so that no other type reaches the
/// parquet crate's conversions (some panic on extreme values).
fn numeric(c: &ColumnDescriptor) -> bool {
    use ConvertedType as C;
    let logical_int = matches!(c.logical_type_ref(), None | Some(LogicalType::Integer { .. }));
    c.max_rep_level() == 0
        && match c.physical_type() {
            Physical::BOOLEAN | Physical::FLOAT | Physical::DOUBLE => c.logical_type_ref().is_none(),
            Physical::INT32 => {
                logical_int
                    && matches!(c.converted_type(), C::NONE | C::INT_8 | C::INT_16 | C::INT_32 | C::UINT_8 | C::UINT_16 | C::UINT_32)
            }
            Physical::INT64 => logical_int && matches!(c.converted_type(), C::NONE | C::INT_64 | C::UINT_64),
            Physical::BYTE_ARRAY => matches!(c.logical_type_ref(), Some(LogicalType::String)) || c.converted_type() == C::UTF8,
            _ => false,
        }
}

/// A cell of a [`numeric`] column as a number, or why not.
fn number(f: &Field) -> Result<f64, String> {
    let v = match f {
        Field::Bool(b) => f64::from(u8::from(*b)),
        Field::Byte(v) => f64::from(*v),
        Field::Short(v) => f64::from(*v),
        Field::Int(v) => f64::from(*v),
        Field::Long(v) => *v as f64,
        Field::UByte(v) => f64::from(*v),
        Field::UShort(v) => f64::from(*v),
        Field::UInt(v) => f64::from(*v),
        Field::ULong(v) => *v as f64,
        Field::Float(v) => f64::from(*v),
        Field::Double(v) => *v,
        Field::Str(s) => s.trim().parse::<f64>().map_err(|_| format!("{} is not a number", quote(s)))?,
        Field::Null => return Err("is empty (null)".into()),
        // never displayed: the crate's Display of some fields panics
        _ => return Err("holds a value that is not a number".into()),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite number"))
    }
}

/// Whether the file ends with the Parquet magic too (a text file whose
/// first column is named `PAR1...` does not).
pub fn is_parquet(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(_) => return false,
    };
    let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
    f.read_exact(&mut head).is_ok()
        && f.seek(SeekFrom::End(-4)).is_ok()
        && f.read_exact(&mut tail).is_ok()
        && &head == MAGIC
        && &tail == MAGIC
}

/// Reads a Parquet file as a [`Table`], `lines` holding row numbers.
pub fn read(path: &Path) -> Result<Table, CoreError> {
    let source = path.display().to_string();
    let err = |m: String| CoreError::Csv(format!("{source}: {m}"));
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let len = file.metadata().map_err(|e| err(e.to_string()))?.len();
    if len > MAX_TEXT_BYTES {
        return Err(err(format!("is larger than {} MiB; split it", MAX_TEXT_BYTES >> 20)));
    }
    let reader = SerializedFileReader::new(file).map_err(|e| err(format!("not a readable Parquet file: {}", quote(&e.to_string()))))?;
    let schema = reader.metadata().file_metadata().schema_descr();
    if schema.root_schema().get_fields().iter().any(|f| f.is_group()) {
        return Err(err("has nested columns; Candor reads flat tables of numbers".into()));
    }
    if let Some(c) = schema.columns().iter().find(|c| !numeric(c)) {
        return Err(err(format!(
            "column {} is {:?} ({:?}{}), not numbers: cast it to a float or an integer",
            quote(c.name()),
            c.physical_type(),
            c.converted_type(),
            if c.max_rep_level() > 0 { ", repeated" } else { "" }
        )));
    }
    let columns: Vec<String> = schema.columns().iter().map(|c| c.name().trim().to_string()).collect();
    let mut table = Table { source: source.clone(), columns: columns.clone(), rows: vec![], lines: vec![], place: "row" };
    table.check_names()?;
    // row groups decode as many rows as they claim, whatever the footer
    // says: the bound is kept as rows arrive (8 bytes a value)
    let most = MAX_TEXT_BYTES / 8 / columns.len() as u64;
    let rows = reader.get_row_iter(None).map_err(|e| err(quote(&e.to_string())))?;
    for (row, n) in rows.zip(1u64..) {
        if n > most {
            return Err(err(format!("holds more than {most} rows of {} columns, more than Candor reads at once; split it", columns.len())));
        }
        let row = row.map_err(|e| err(format!("row {n}: {}", quote(&e.to_string()))))?;
        let values = row
            .get_column_iter()
            .zip(&columns)
            .map(|((_, f), col)| number(f).map_err(|why| err(format!("row {n}, column {col}: {why}"))))
            .collect::<Result<Vec<_>, _>>()?;
        table.rows.push(values);
        table.lines.push(n);
    }
    if table.rows.is_empty() {
        return Err(err("has no rows".into()));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use crate::table::Table;
    use crate::{FixedFormat, ModelSpec, Task, TrainSpec};
    use std::path::Path;

    fn file(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }

    #[test]
    fn a_pyarrow_file_reads_as_its_csv_twin() {
        // written by pyarrow's defaults (snappy) from digits_test.csv
        let p = Table::read(&file("../examples/data/digits_test.parquet")).unwrap();
        let c = Table::read(&file("../examples/data/digits_test.csv")).unwrap();
        assert_eq!((&p.columns, &p.rows), (&c.columns, &c.rows));
        assert_eq!((p.place, p.lines[0], p.rows.len()), ("row", 1, 359));
    }

    #[test]
    fn a_bad_cell_or_label_names_its_row_and_column() {
        let e = Table::read(&file("testdata/null-cell.parquet")).unwrap_err().to_string();
        assert!(e.contains("null-cell.parquet: row 2, column b: is empty (null)"), "{e}");
        // zstd-compressed; text cells holding numbers are read
        let spec = TrainSpec {
            model: ModelSpec::linear(2, Task::Logistic),
            format: FixedFormat::default(),
            learning_rate: 0.5,
            batch_size: 4,
            epochs: 1,
            steps_per_fold: 1,
        };
        let t = Table::read_with(&file("testdata/bad-label-zstd.parquet"), None).unwrap();
        assert_eq!(t.rows[1], vec![2.0, 1.0, 1.0]);
        let e = t.check_labels("y", &spec, None).unwrap_err().to_string();
        assert!(e.contains("row 3, column y: label 3 is not 0 or 1"), "{e}");
    }

    #[test]
    fn columns_that_are_not_numbers_are_refused_by_name_before_any_row() {
        // dates and INT96 timestamps (whose conversions panic on extreme
        // values in the parquet crate) never reach a row
        for (f, col) in [("date-column", "when"), ("int96-column", "t")] {
            let e = Table::read(&file(&format!("testdata/{f}.parquet"))).unwrap_err().to_string();
            assert!(e.contains(&format!("column \"{col}\" is")) && e.contains("cast it"), "{e}");
        }
        // numbers are column names in Parquet (pandas writes "0", "1", ...)
        let t = Table::read(&file("testdata/numeric-names.parquet")).unwrap();
        assert_eq!(t.columns, ["0", "1", "y"]);
    }

    #[test]
    fn a_text_file_whose_first_column_is_named_par1_is_text() {
        let dir = std::env::temp_dir().join(format!("candor-par1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("par1.csv");
        std::fs::write(&p, "PAR1x,y\n1,0\n2,1\n").unwrap();
        let t = Table::read(&p).unwrap();
        assert_eq!((t.place, t.columns[0].as_str()), ("line", "PAR1x"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let bytes = std::fs::read(file("testdata/null-cell.parquet")).unwrap();
        let dir = std::env::temp_dir().join(format!("candor-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("cut.parquet");
        // the footer cut off, and the tail kept but the middle gone
        let mut cut = bytes[..bytes.len() / 2].to_vec();
        cut.extend_from_slice(b"PAR1");
        std::fs::write(&p, &cut).unwrap();
        let e = Table::read(&p).unwrap_err().to_string();
        assert!(e.contains("cut.parquet: not a readable Parquet file"), "{e}");
        let mut hollow = bytes[..8].to_vec();
        hollow.extend_from_slice(&bytes[bytes.len() - 400.min(bytes.len() - 8)..]);
        std::fs::write(&p, &hollow).unwrap();
        assert!(Table::read(&p).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
