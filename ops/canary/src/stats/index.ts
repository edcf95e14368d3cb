/**
 * The statistics the judge uses, without I/O: the normal distribution, proportions (Wilson interval,
 * difference with its variance, sample size), always-valid inference (mixture SPRT and confidence
 * sequence), the Mann–Whitney test on bucketed histograms and the 1-dof chi-square test. Every function
 * validates its input and throws a RangeError naming the bad argument.
 */
export { normalCdf, normalPdf, normalQuantile } from './normal.js';
export {
  differenceOfProportions,
  sampleSizeTwoProportions,
  wilsonInterval,
  type DifferenceOfProportions,
  type Proportion,
} from './proportions.js';
export {
  confidenceSequence,
  mixtureSprt,
  type ConfidenceSequenceInput,
  type MixtureSprtInput,
  type MixtureSprtResult,
} from './mixture.js';
export {
  bucketCounts,
  mannWhitneyBucketed,
  type CumulativeHistogram,
  type MannWhitneyResult,
} from './mann-whitney.js';
export { chiSquareOneDof, type ChiSquareResult } from './chi-square.js';
