"""Writes the list-column Parquet fixtures of core/src/parquet_table.rs.

Run with pyarrow installed (pip install pyarrow): python3 make_lists.py
Vectors are written the ways pyarrow/pandas (list<double>) and
polars/pyarrow fixed-size arrays (fixed_size_list<float>) write them.
"""
import pyarrow as pa
import pyarrow.parquet as pq

rows = [[0.5, -1.25, 2.0, 0.0], [1.0, 0.25, -0.5, 3.5], [-2.0, 0.75, 1.5, -0.125]]
labels = [1, 0, 1]

fixed = pa.array(rows, type=pa.list_(pa.float32(), 4))
pq.write_table(pa.table({"id_score": pa.array([0.1, 0.2, 0.3]), "emb": fixed, "y": pa.array(labels, pa.int64())}),
               "embeddings-fixed.parquet")
pq.write_table(pa.table({"emb": pa.array(rows, type=pa.list_(pa.float64())), "y": pa.array(labels, pa.int64())}),
               "embeddings-list.parquet", compression="zstd")
ragged = [[0.5, -1.25, 2.0], [1.0, 0.25], [-2.0, 0.75, 1.5]]
pq.write_table(pa.table({"emb": pa.array(ragged, type=pa.list_(pa.float64())), "y": pa.array(labels, pa.int64())}),
               "embeddings-ragged.parquet")
holes = [[0.5, -1.25], [1.0, None], None]
pq.write_table(pa.table({"emb": pa.array(holes, type=pa.list_(pa.float64())), "y": pa.array(labels, pa.int64())}),
               "embeddings-null.parquet")
nested = [[[1.0], [2.0]], [[3.0], [4.0]], [[5.0], [6.0]]]
pq.write_table(pa.table({"emb": pa.array(nested, type=pa.list_(pa.list_(pa.float64()))), "y": pa.array(labels, pa.int64())}),
               "embeddings-nested.parquet")
