export * from './mvcc/etcd-types.js';
