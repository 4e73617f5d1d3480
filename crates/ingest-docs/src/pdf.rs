use crate::Limits;
use domain::library::{ExtractError, ExtractedDocument};
pub(crate) fn extract(_bytes: &[u8], _limits: &Limits) -> Result<ExtractedDocument, ExtractError> {
    Err(ExtractError::Unsupported("todo".into()))
}
