// Data parallelism's options and its sampler: who this process is in the world, where the
// ranks meet, and which examples of an epoch this rank trains on.
import { invalidArgument } from '../errors'
import type { Device } from '../model/device'

export interface DistributedOptions {
  /** This process's rank, in [0, worldSize). */
  rank: number
  worldSize: number
  /** The host of the rendezvous store (torchrun's MASTER_ADDR); default 127.0.0.1. */
  masterAddr?: string
  /** Its port (MASTER_PORT); default 29500, torch's. */
  masterPort?: number
  /**
   * Whether this process hosts the store: default rank 0. False on every rank under torchrun
   * with TORCHELASTIC_USE_AGENT_STORE=True, whose agent hosts it.
   */
  hostStore?: boolean
  /** 'gloo' (the default on the CPU) or 'nccl' (CUDA). */
  backend?: 'gloo' | 'nccl'
  /** Seconds to wait for the other ranks, at the start and in every step; default 300. */
  timeoutSeconds?: number
  /**
   * The size of a gradient bucket in MiB, DDP's bucket_cap_mb (default 25): a bucket is sent to
   * the other ranks as soon as the backward pass has produced all of its gradients, while the
   * pass goes on; smaller buckets start sending earlier, larger ones make fewer collectives.
   */
  bucketCapMb?: number
  /** This process's rank among those on its host (torchrun's LOCAL_RANK): with device 'cuda'
   *  (or 'auto' where CUDA is), the rank trains on cuda:localRank, one GPU per rank. */
  localRank?: number
}

export interface ResolvedDistributed {
  rank: number
  worldSize: number
  masterAddr: string
  masterPort: number
  hostStore: boolean
  backend: 'gloo' | 'nccl'
  timeoutSeconds: number
  bucketCapMb: number
  localRank: number | null
}

const DEFAULT_PORT = 29500
const DEFAULT_TIMEOUT_SECONDS = 300
const DEFAULT_BUCKET_CAP_MB = 25

function wholeNumber(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min
}

export function resolveDistributed(given: DistributedOptions, device: string): ResolvedDistributed {
  const where = 'train()'
  if (typeof given !== 'object' || given === null) throw invalidArgument(where, 'distributed', given, 'an object { rank, worldSize, ... }')
  if (!wholeNumber(given.worldSize, 1)) throw invalidArgument(where, 'distributed.worldSize', given.worldSize, 'a positive integer')
  if (!wholeNumber(given.rank, 0) || given.rank >= given.worldSize) throw invalidArgument(where, 'distributed.rank', given.rank, `an integer in [0, ${given.worldSize})`)
  const masterAddr = given.masterAddr ?? '127.0.0.1'
  if (typeof masterAddr !== 'string' || masterAddr.length === 0) throw invalidArgument(where, 'distributed.masterAddr', masterAddr, 'a host name or address')
  const masterPort = given.masterPort ?? DEFAULT_PORT
  if (!wholeNumber(masterPort, 0) || masterPort > 65535) throw invalidArgument(where, 'distributed.masterPort', masterPort, 'a port in [0, 65535]')
  const cuda = device.startsWith('cuda')
  const backend = given.backend ?? (cuda ? 'nccl' : 'gloo')
  if (backend !== 'gloo' && backend !== 'nccl') throw invalidArgument(where, 'distributed.backend', backend, "'gloo' or 'nccl'")
  if (backend === 'nccl' && !cuda) throw invalidArgument(where, 'distributed.backend', backend, `'gloo' on device ${device} (NCCL reduces CUDA tensors)`)
  const timeoutSeconds = given.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS
  if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) throw invalidArgument(where, 'distributed.timeoutSeconds', timeoutSeconds, 'a number of seconds > 0')
  const bucketCapMb = given.bucketCapMb ?? DEFAULT_BUCKET_CAP_MB
  if (typeof bucketCapMb !== 'number' || !(bucketCapMb > 0) || !Number.isFinite(bucketCapMb)) throw invalidArgument(where, 'distributed.bucketCapMb', bucketCapMb, 'a number of MiB > 0')
  const localRank = given.localRank ?? null
  if (localRank !== null && !wholeNumber(localRank, 0)) throw invalidArgument(where, 'distributed.localRank', localRank, 'a whole number')
  return { rank: given.rank, worldSize: given.worldSize, masterAddr, masterPort, hostStore: given.hostStore ?? given.rank === 0, backend, timeoutSeconds, bucketCapMb, localRank }
}

/** The device a rank trains on: a CUDA device without an index becomes this rank's own
 *  (cuda:localRank), as torchrun's scripts do with torch.cuda.set_device(LOCAL_RANK). */
export function rankDevice(device: Device, localRank: number | null, cudaAvailable: boolean): Device {
  if (localRank === null) return device
  if (device === 'cuda' || (device === 'auto' && cudaAvailable)) return `cuda:${localRank}`
  return device
}

function envInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name]
  if (text === undefined) return undefined
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw invalidArgument('distributed', `$${name}`, text, 'a whole number')
  return value
}

/**
 * torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
 * TORCHELASTIC_USE_AGENT_STORE), or null when this process was not started as a rank.
 */
export function distributedFromEnv(env: NodeJS.ProcessEnv = process.env): DistributedOptions | null {
  const rank = envInteger(env, 'RANK')
  const worldSize = envInteger(env, 'WORLD_SIZE')
  if (rank === undefined && worldSize === undefined) return null
  if (rank === undefined || worldSize === undefined) throw invalidArgument('distributed', rank === undefined ? '$RANK' : '$WORLD_SIZE', undefined, 'set with the other (both or neither)')
  const timeout = env.CONVTORCH_DIST_TIMEOUT
  return {
    rank,
    worldSize,
    masterAddr: env.MASTER_ADDR,
    masterPort: envInteger(env, 'MASTER_PORT'),
    hostStore: env.TORCHELASTIC_USE_AGENT_STORE === 'True' ? false : undefined,
    timeoutSeconds: timeout === undefined ? undefined : Number(timeout),
    localRank: envInteger(env, 'LOCAL_RANK'),
  }
}

/** Examples per rank per epoch: the epoch padded to a multiple of the world (DistributedSampler). */
export function shardSize(count: number, worldSize: number): number {
  return Math.ceil(count / worldSize)
}

/**
 * This rank's examples of an epoch, as torch's DistributedSampler(drop_last=False) takes them:
 * every rank holds the same permutation, pads it by repeating its start to a multiple of the
 * world size, and takes every worldSize-th example from position `rank`.
 */
export function shardOrder(order: Uint32Array, rank: number, worldSize: number): Uint32Array {
  if (worldSize === 1) return order
  const size = shardSize(order.length, worldSize)
  const shard = new Uint32Array(size)
  for (let i = 0; i < size; i++) shard[i] = order[(rank + i * worldSize) % order.length]
  return shard
}
