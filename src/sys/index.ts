export { helperPath, builtHelper } from './helper-path.js';
