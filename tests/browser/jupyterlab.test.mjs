// The browser test in JupyterLab 4 (the steps: lib/suite.mjs).
import { frontendSuite } from './lib/suite.mjs';

frontendSuite('lab');
