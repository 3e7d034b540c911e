//! Parquet files as tables: flat columns of numbers (integers, floats,
//! booleans, or text holding a number), read through the `parquet` crate's
//! row API. Parquet has no lines: errors name the row (the first is row 1)
//! and the column.

use crate::table::{Table, MAX_TEXT_BYTES};
use crate::CoreError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use std::path::Path;

/// The magic bytes a Parquet file starts with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// A cell as a number, or why not.
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
        Field::Str(s) => s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number"))?,
        Field::Null => return Err("is empty (null)".into()),
        other => return Err(format!("holds {other}, not a number (cast the column to a float)")),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite number"))
    }
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
    let reader = SerializedFileReader::new(file).map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
    let meta = reader.metadata().file_metadata();
    let schema = meta.schema_descr();
    if schema.root_schema().get_fields().iter().any(|f| f.is_group()) {
        return Err(err("has nested columns; Candor reads flat tables of numbers".into()));
    }
    let columns: Vec<String> = schema.columns().iter().map(|c| c.name().trim().to_string()).collect();
    // the values are held as f64 rows: bound them as text files are bounded
    let cells = (meta.num_rows().max(0) as u64).saturating_mul(columns.len() as u64);
    if cells.saturating_mul(8) > MAX_TEXT_BYTES {
        return Err(err(format!("holds {cells} values, more than Candor reads at once; split it")));
    }
    let mut table = Table { source: source.clone(), columns: columns.clone(), rows: vec![], lines: vec![], place: "row" };
    table.check_columns()?;
    let rows = reader.get_row_iter(None).map_err(|e| err(e.to_string()))?;
    for (row, n) in rows.zip(1u64..) {
        let row = row.map_err(|e| err(format!("row {n}: {e}")))?;
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
    fn a_truncated_file_is_refused() {
        let bytes = std::fs::read(file("testdata/null-cell.parquet")).unwrap();
        let dir = std::env::temp_dir().join(format!("candor-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("cut.parquet");
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let e = Table::read(&p).unwrap_err().to_string();
        assert!(e.contains("cut.parquet: not a readable Parquet file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
