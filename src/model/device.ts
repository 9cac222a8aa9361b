/** Where a model lives: 'auto' (cuda:0 where a GPU and driver are usable, else the CPU), 'cpu', 'cuda' (cuda:0) or 'cuda:N'. */
export type Device = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`
