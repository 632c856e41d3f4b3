// The browser test in Notebook 7 (the steps: lib/suite.mjs).
import { frontendSuite } from './lib/suite.mjs';

frontendSuite('notebook');
