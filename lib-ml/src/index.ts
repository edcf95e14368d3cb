/** lib-ml: the single code path from review text to model input and prediction, for training and serving. */
export * from './text/preprocess.js';
export * from './vectorizer/tfidf.js';
export * from './vectorizer/lexicon.js';
export * from './vectorizer/vader.js';
export * from './model/random.js';
export * from './model/classifier.js';
export * from './model/sparse-scorer.js';
export * from './bundle/errors.js';
export * from './bundle/model-io.js';
export * from './bundle/bundle.js';
export * from './io/atomic.js';
export * from './predict.js';
export * from './backend.js';
export * from './version.js';
