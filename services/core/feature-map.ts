// The feature map: every feature of one transaction by name, what rules and the model read.
// Its own module so that the model's interface (model.ts) and the features (features.ts) can both
// name it without importing each other.
export type FeatureValue = number | string | boolean;
export type FeatureMap = Record<string, FeatureValue>;
