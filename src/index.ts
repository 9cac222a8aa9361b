// convtorch: convolutional neural networks trained from TypeScript on libtorch.
// The public types use Node's (Buffer, AbortSignal, NodeJS.ProcessEnv): the reference, kept in
// index.d.ts, loads @types/node (a peer dependency) in projects whose tsconfig lists no types.
/// <reference types="node" preserve="true" />
export * from './errors'
export { cuda, nativeMemory, runtimeInfo, setNumThreads, torchVersion, type RuntimeInfo } from './runtime'
export { Model, type Evaluation, type FeatureMaps, type Init, type ModelOptions, type Prediction, type Tensor } from './model/model'
export type { LayerSpec, ModelSpec, Padding, Pair } from './model/spec'
export type { Device } from './model/device'
export { preset, presets, resolveSpec, seedSpec, strongSpec, type PresetName } from './model/presets'
export { inferShapes, formatShape, type LayerShape, type Shape } from './model/shapes'
export type { OptimizerOptions } from './model/optimizer'
export { Dataset, perChannel, type DatasetArrays, type Normalisation } from './data/dataset'
export { DeviceDataset } from './data/device-dataset'
export { encodeIdx, parseIdx, readIdxFile, type IdxArray } from './data/idx'
export { bundledMnistDir, loadMnist, MNIST_FILES, type Split } from './data/mnist'
export { download, contentSha256, type DownloadOptions, type DownloadResult } from './data/download'
export { defaultCacheDir, MNIST_SHA256, resolveData, type DataFormat, type ResolvedData, type SourceOptions } from './data/sources'
export { loadImageFolder, IMAGE_FOLDER_LAYOUTS, type ImageFolderData, type ImageFolderOptions } from './data/image-folder'
export { CIFAR10_FILES, CIFAR_RECORD_BYTES, CIFAR_SHAPE, encodeCifarBatch, loadCifar10, parseCifarBatch, parseCifarMeta, type CifarRecords } from './data/cifar'
export { validationSplit, type ValidationSplit } from './data/validation-split'
export { epochOrder, permutation, Rng } from './data/shuffle'
export { torchLoaderOrders, type TorchOrderOptions } from './training/torch-order'
export { History, type BatchEnd, type Callback, type Callbacks, type EpochEnd, type FitContext, type Monitor, type TrainBegin } from './training/callbacks'
export { checkpoint, CheckpointCallback, type CheckpointOptions } from './training/checkpoint-callback'
export { nonFiniteGuard, NonFiniteLossError, type OnNonFinite } from './training/non-finite-guard'
export { earlyStopping, EarlyStopping, type EarlyStoppingOptions } from './training/early-stopping'
export { historyCsv, HISTORY_COLUMNS } from './training/history-csv'
export { batchesCsv, readBatchesCsv, BATCH_COLUMNS, type BatchRow } from './training/batches-csv'
export { reportCallback, type ReportOptions } from './training/report-callback'
export { tensorboard, type TensorboardOptions } from './training/tensorboard-callback'
export type { LoopState } from './training/loop-state'
export { distributedFromEnv, rankDevice, shardOrder, shardSize, type DistributedOptions } from './training/distributed'
export { readCheckpoint, writeCheckpoint, type CheckpointContents } from './checkpoint/checkpoint'
export type { ModelDescription, TrainingState } from './checkpoint/contents'
export { accuracy, confusionMatrix, mean, perClassMetrics, type ClassMetrics } from './training/metrics'
export type { ResolvedOptions, TrainOptimizerOptions, TrainOptions } from './training/options'
export { checkAugment, parseAugment, type AugmentOptions } from './training/augment'
export { channelStatistics } from './data/statistics'
export { train, TrainingAbortedError, type TestResult, type Timings, type TrainResult } from './training/train'
export { evaluate, type EvaluationReport } from './evaluation/evaluate'
export { summary } from './cli/summary-command'
export {
  decodeImage,
  probeImage,
  readImage,
  readImageBytes,
  type Channels,
  type DecodedBytes,
  type DecodedImage,
  type DecodeImageOptions,
  type ImageInfo,
  type ReadImageBytesOptions,
  type ReadImageOptions,
} from './image/decode'
export { IMAGE_EXTENSIONS, listImageFiles } from './image/list-files'
export { preprocessMnist, type MnistInput } from './image/mnist-preprocess'
export { mnistInputFromFile, type Preprocess } from './image/preprocess'
export { pytorchSource, type PytorchSourceOptions } from './export/pytorch-source'
export { ONNX_IR_VERSION, ONNX_OPSET, type OnnxMetadata } from './export/onnx-format'
export { exportOnnxFile, type OnnxFileResult } from './export/onnx-file'
export { serveModel, type ModelServer, type ServeOptions } from './serve/server'
export { predictFiles, type ClassScore, type FilePrediction, type PredictFilesOptions } from './predict/predict-files'
export { learningRateAt, parseSchedule, type ScheduleOptions, type SchedulePer } from './training/schedule'
