//! The mapping from Arrow data types to PostgreSQL column types.

use arrow::datatypes::{DataType, Field};
use tokio_postgres::types::Type;

use crate::ApplyError;

/// A PostgreSQL column type that the sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PgType {
    SmallInt,
    Integer,
    BigInt,
    Real,
    DoublePrecision,
    Numeric { precision: u8, scale: u8 },
    Text,
    Bytea,
    Boolean,
    Date,
    Time,
    Timestamp,
    TimestampTz,
}

impl PgType {
    /// Returns the type as the server's `format_type` prints it, which is also valid DDL.
    pub(crate) fn sql_name(self) -> String {
        match self {
            PgType::SmallInt => "smallint".into(),
            PgType::Integer => "integer".into(),
            PgType::BigInt => "bigint".into(),
            PgType::Real => "real".into(),
            PgType::DoublePrecision => "double precision".into(),
            PgType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
            PgType::Text => "text".into(),
            PgType::Bytea => "bytea".into(),
            PgType::Boolean => "boolean".into(),
            PgType::Date => "date".into(),
            PgType::Time => "time without time zone".into(),
            PgType::Timestamp => "timestamp without time zone".into(),
            PgType::TimestampTz => "timestamp with time zone".into(),
        }
    }

    /// Returns the wire type that binary COPY declares for the column.
    pub(crate) fn wire_type(self) -> Type {
        match self {
            PgType::SmallInt => Type::INT2,
            PgType::Integer => Type::INT4,
            PgType::BigInt => Type::INT8,
            PgType::Real => Type::FLOAT4,
            PgType::DoublePrecision => Type::FLOAT8,
            PgType::Numeric { .. } => Type::NUMERIC,
            PgType::Text => Type::TEXT,
            PgType::Bytea => Type::BYTEA,
            PgType::Boolean => Type::BOOL,
            PgType::Date => Type::DATE,
            PgType::Time => Type::TIME,
            PgType::Timestamp => Type::TIMESTAMP,
            PgType::TimestampTz => Type::TIMESTAMPTZ,
        }
    }
}

/// Returns the PostgreSQL type of `field`'s column. The mapping is in the module docs of
/// [`crate::postgres`].
pub(crate) fn pg_type_for(field: &Field) -> Result<PgType, ApplyError> {
    let unsupported = |hint: String| ApplyError::UnsupportedType {
        column: field.name().clone(),
        data_type: field.data_type().clone(),
        hint,
    };
    let pg_type = match field.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => PgType::SmallInt,
        DataType::Int32 | DataType::UInt16 => PgType::Integer,
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => PgType::BigInt,
        DataType::Float16 | DataType::Float32 => PgType::Real,
        DataType::Float64 => PgType::DoublePrecision,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => PgType::Text,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => PgType::Bytea,
        DataType::Boolean => PgType::Boolean,
        DataType::Date32 | DataType::Date64 => PgType::Date,
        DataType::Time32(_) | DataType::Time64(_) => PgType::Time,
        DataType::Timestamp(_, None) => PgType::Timestamp,
        DataType::Timestamp(_, Some(_)) => PgType::TimestampTz,
        DataType::Decimal32(precision, scale)
        | DataType::Decimal64(precision, scale)
        | DataType::Decimal128(precision, scale) => {
            let Ok(scale) = u8::try_from(*scale) else {
                return Err(unsupported(format!(
                    "a negative scale ({scale}) is not supported; rescale the column to a scale \
                     of 0 or more"
                )));
            };
            if scale > *precision {
                return Err(unsupported(format!(
                    "the scale {scale} exceeds the precision {precision}; store it with a \
                     precision of at least {scale}"
                )));
            }
            PgType::Numeric {
                precision: *precision,
                scale,
            }
        }
        DataType::Decimal256(..) => {
            return Err(unsupported(
                "cast it to Decimal128 (38 digits at most) or to Utf8 before this stage".into(),
            ));
        }
        DataType::Dictionary(_, value_type) => {
            return Err(unsupported(format!(
                "cast it to its value type {value_type} (arrow::compute::cast) before this stage"
            )));
        }
        DataType::Duration(_) | DataType::Interval(_) => {
            return Err(unsupported(
                "cast it to Int64, a count of its unit, before this stage".into(),
            ));
        }
        DataType::Null => {
            return Err(unsupported(
                "a column of only nulls has no value type; cast it to the type it should have"
                    .into(),
            ));
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::Union(..)
        | DataType::RunEndEncoded(..) => {
            return Err(unsupported(
                "flatten it into scalar columns, or encode it as a Utf8 column such as JSON, \
                 before this stage"
                    .into(),
            ));
        }
    };
    Ok(pg_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;
    use std::sync::Arc;

    fn map(data_type: DataType) -> Result<String, ApplyError> {
        pg_type_for(&Field::new("c", data_type, true)).map(PgType::sql_name)
    }

    #[test]
    fn mapping_table() {
        let cases = [
            (DataType::Int8, "smallint"),
            (DataType::Int16, "smallint"),
            (DataType::Int32, "integer"),
            (DataType::Int64, "bigint"),
            (DataType::UInt8, "smallint"),
            (DataType::UInt16, "integer"),
            (DataType::UInt32, "bigint"),
            (DataType::UInt64, "bigint"),
            (DataType::Float16, "real"),
            (DataType::Float32, "real"),
            (DataType::Float64, "double precision"),
            (DataType::Utf8, "text"),
            (DataType::LargeUtf8, "text"),
            (DataType::Utf8View, "text"),
            (DataType::Binary, "bytea"),
            (DataType::Boolean, "boolean"),
            (DataType::Date32, "date"),
            (DataType::Date64, "date"),
            (
                DataType::Time64(TimeUnit::Microsecond),
                "time without time zone",
            ),
            (
                DataType::Timestamp(TimeUnit::Millisecond, None),
                "timestamp without time zone",
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                "timestamp with time zone",
            ),
            (DataType::Decimal128(10, 2), "numeric(10,2)"),
        ];
        for (data_type, expected) in cases {
            let mapped = map(data_type.clone()).expect("supported type");
            assert_eq!(mapped, expected, "{data_type}");
        }
    }

    #[test]
    fn unsupported_types_name_column_and_type() {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        let error = pg_type_for(&Field::new("readings", list, true)).expect_err("list");
        let message = error.to_string();
        assert!(message.contains("\"readings\""), "{message}");
        assert!(message.contains("List"), "{message}");
        assert!(message.contains("flatten"), "{message}");

        let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let message = map(dictionary).expect_err("dictionary").to_string();
        assert!(
            message.contains("cast it to its value type Utf8"),
            "{message}"
        );

        let message = map(DataType::Decimal128(5, -2))
            .expect_err("negative scale")
            .to_string();
        assert!(message.contains("negative scale"), "{message}");
    }
}
