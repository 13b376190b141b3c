export { CorpusError, listAudioFiles, readCorpus } from './corpus.js';
export { parseRavdessName, type RavdessClip, type VocalChannel } from './filename.js';
export {
  foldActors,
  isProtocol,
  PROTOCOLS,
  type ProtocolName,
  SEED,
  type Split,
  type SplitRow,
  splitRows,
  utteranceClips,
} from './protocols.js';
export { Random } from './random.js';
