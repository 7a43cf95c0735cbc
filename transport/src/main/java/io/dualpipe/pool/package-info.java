/**
 * Supervised pools of long-running children: {@link io.dualpipe.pool.ChildPool}, its
 * {@link io.dualpipe.pool.Exchange}s (lines, frames), metrics and typed failures.
 */
package io.dualpipe.pool;
