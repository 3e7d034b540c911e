//! Parquet files as tables: columns of numbers (integers, floats, booleans,
//! or text holding a number), and lists of numbers of one length in every
//! row (how pandas, pyarrow and polars write an embedding vector: a list
//! column `emb` of 512 numbers reads as the columns `emb_0` to `emb_511`),
//! read through the `parquet` crate's row API. Parquet has no lines: errors
//! name the row (the first is row 1) and the column.

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
fn numeric(c: &ColumnDescriptor, repetition: i16) -> bool {
    use ConvertedType as C;
    let logical_int = matches!(c.logical_type_ref(), None | Some(LogicalType::Integer { .. }));
    c.max_rep_level() == repetition
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

/// Whether a group is a list (pyarrow, pandas and polars write vectors, fixed
/// size or not, as Parquet's three-level LIST).
fn is_list(f: &parquet::schema::types::Type) -> bool {
    let info = f.get_basic_info();
    matches!(info.logical_type_ref(), Some(LogicalType::List)) || info.converted_type() == ConvertedType::LIST
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
    // one entry per top-level field: its name, and whether it is a list
    let mut fields: Vec<(String, bool)> = vec![];
    for (i, f) in schema.root_schema().get_fields().iter().enumerate() {
        let leaves: Vec<&ColumnDescriptor> =
            schema.columns().iter().enumerate().filter(|(l, _)| schema.get_column_root_idx(*l) == i).map(|(_, c)| c.as_ref()).collect();
        let list = f.is_group() && is_list(f);
        // a list of numbers has one leaf, repeated once; lists of lists and
        // structs are nested
        if f.is_group() && !(list && leaves.len() == 1 && leaves[0].max_rep_level() == 1) {
            return Err(err(format!("column {} is nested; Candor reads numbers and lists of numbers", quote(f.name()))));
        }
        let leaf = leaves[0];
        if !numeric(leaf, i16::from(list)) {
            return Err(err(format!(
                "column {} is {:?} ({:?}{}), not numbers: cast it to a float or an integer",
                quote(f.name()),
                leaf.physical_type(),
                leaf.converted_type(),
                if leaf.max_rep_level() > i16::from(list) { ", repeated" } else { "" }
            )));
        }
        fields.push((f.name().trim().to_string(), list));
    }
    let mut table = Table { source: source.clone(), columns: vec![], rows: vec![], lines: vec![], place: "row" };
    // a list's length, from the first row; every row must match it
    let mut lengths: Vec<usize> = vec![];
    let mut most = u64::MAX;
    let rows = reader.get_row_iter(None).map_err(|e| err(quote(&e.to_string())))?;
    for (row, n) in rows.zip(1u64..) {
        // row groups decode as many rows as they claim, whatever the footer
        // says: the bound is kept as rows arrive (8 bytes a value)
        if n > most {
            return Err(err(format!(
                "holds more than {most} rows of {} columns, more than Candor reads at once; split it",
                table.columns.len()
            )));
        }
        let row = row.map_err(|e| err(format!("row {n}: {}", quote(&e.to_string()))))?;
        let mut values = Vec::with_capacity(table.columns.len());
        for (k, ((_, f), (col, list))) in row.get_column_iter().zip(&fields).enumerate() {
            let at = |why: String| err(format!("row {n}, column {col}: {why}"));
            if !list {
                values.push(number(f).map_err(at)?);
                continue;
            }
            let Field::ListInternal(items) = f else { return Err(at("is empty (null)".into())) };
            if n == 1 {
                lengths.push(items.len());
            } else if items.len() != lengths[fields[..k].iter().filter(|(_, l)| *l).count()] {
                let first = lengths[fields[..k].iter().filter(|(_, l)| *l).count()];
                return Err(at(format!("holds {} numbers where row 1 held {first}: a vector column needs one length", items.len())));
            }
            for (j, v) in items.elements().iter().enumerate() {
                values.push(number(v).map_err(|why| at(format!("number {j}: {why}")))?);
            }
        }
        if n == 1 {
            let mut lists = lengths.iter();
            for (name, list) in &fields {
                match list {
                    false => table.columns.push(name.clone()),
                    true => table.columns.extend((0..*lists.next().expect("a length per list")).map(|j| format!("{name}_{j}"))),
                }
            }
            table.check_names()?;
            most = MAX_TEXT_BYTES / 8 / table.columns.len().max(1) as u64;
        }
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
    fn vector_columns_read_as_one_column_per_dimension() {
        // written by testdata/make_lists.py: pyarrow's fixed_size_list<float>
        // (as polars writes an Array) and pandas' list<double> (zstd)
        let want = [[0.5, -1.25, 2.0, 0.0, 1.0], [1.0, 0.25, -0.5, 3.5, 0.0], [-2.0, 0.75, 1.5, -0.125, 1.0]];
        let t = Table::read(&file("testdata/embeddings-fixed.parquet")).unwrap();
        assert_eq!(t.columns, ["id_score", "emb_0", "emb_1", "emb_2", "emb_3", "y"]);
        assert_eq!(t.rows.iter().map(|r| r[1..].to_vec()).collect::<Vec<_>>(), want.map(|r| r.to_vec()));
        let t = Table::read(&file("testdata/embeddings-list.parquet")).unwrap();
        assert_eq!(t.columns, ["emb_0", "emb_1", "emb_2", "emb_3", "y"]);
        assert_eq!(t.rows, want.map(|r| r.to_vec()));
        // and train like any table: the label by name, the vector as features
        let spec = TrainSpec {
            model: ModelSpec::linear(4, Task::Logistic),
            format: FixedFormat::default(),
            learning_rate: 0.5,
            batch_size: 4,
            epochs: 1,
            steps_per_fold: 1,
        };
        let (x, y) = t.select_for(None, "y", &spec).unwrap();
        assert_eq!((x[2].clone(), y), (vec![-2.0, 0.75, 1.5, -0.125], vec![1.0, 0.0, 1.0]));
    }

    #[test]
    fn vectors_of_several_lengths_holes_and_nesting_are_refused_by_row_and_column() {
        let e = Table::read(&file("testdata/embeddings-ragged.parquet")).unwrap_err().to_string();
        assert!(e.contains("row 2, column emb: holds 2 numbers where row 1 held 3"), "{e}");
        let e = Table::read(&file("testdata/embeddings-null.parquet")).unwrap_err().to_string();
        assert!(e.contains("row 2, column emb: number 1: is empty (null)"), "{e}");
        let e = Table::read(&file("testdata/embeddings-nested.parquet")).unwrap_err().to_string();
        assert!(e.contains("column \"emb\" is nested"), "{e}");
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
