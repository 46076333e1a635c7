//! Loading and saving any of the models' weights as burnpack files stored in f16: the one
//! place for the rules every bundled model follows.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::store::{BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};
use burn::tensor::Tensor;

use crate::ModelError;

/// Loads `store` into `model` (freshly initialised with the right shapes); a missing or
/// mismatched tensor is an error, not a silently random weight.
pub(crate) fn load_into<M: Module>(mut model: M, store: &mut BurnpackStore) -> Result<M, ModelError> {
    let result = model.load_from(store).map_err(|e| ModelError::Weights(e.to_string()))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(ModelError::Weights(format!("{result}")));
    }
    Ok(model)
}

/// Largest weight file read: the bundled models' are 0.2–0.4 MB; a file claiming more is not
/// ours (and is refused before it is parsed).
pub const MAX_WEIGHT_FILE_BYTES: usize = 64 << 20;

/// A store over a weight file's bytes (f16 on disk, as `mpqlab train` writes them).
pub(crate) fn store_from_bytes(bytes: &[u8]) -> Result<BurnpackStore, ModelError> {
    if bytes.len() > MAX_WEIGHT_FILE_BYTES {
        return Err(ModelError::Weights(format!("the file is {} bytes; weight files here are at most {MAX_WEIGHT_FILE_BYTES}", bytes.len())));
    }
    let bytes = burn::tensor::Bytes::from_bytes_vec(bytes.to_vec());
    Ok(BurnpackStore::from_bytes(Some(bytes)).with_from_adapter(HalfPrecisionAdapter::new()))
}

/// The weights as a burnpack file, stored in f16. Parameter ids (random per process in burn)
/// are renumbered 0, 1, 2, … so that the same weights give the same bytes.
pub(crate) fn to_f16_bytes<M: Module + Clone>(model: &M) -> Result<Vec<u8>, ModelError> {
    struct Renumber(u64);
    impl ModuleMapper for Renumber {
        fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.id = ParamId::from(self.0);
            self.0 += 1;
            param
        }
    }
    let model = model.clone().map(&mut Renumber(0));
    let mut store = BurnpackStore::from_bytes(None).with_to_adapter(HalfPrecisionAdapter::new());
    model.save_into(&mut store).map_err(|e| ModelError::Weights(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| ModelError::Weights(e.to_string()))?;
    Ok(bytes.to_vec())
}
