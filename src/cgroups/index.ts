export {
  detectCgroupLayout,
  parseCgroupLayout,
  unescapeMountPath,
  type CgroupLayout,
  type CgroupMode,
} from './detect.js';
