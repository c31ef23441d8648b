// The slot id lives in @trigrun/util: JobsService arms a changed job's slot again with it too.
export { executionIdForSlot } from '@trigrun/util';
