/**
 * The Apache Spark engine: a run's fused passes split into contiguous partitions of the data, each run on an
 * executor through the same fused pass a local run uses, their streaming accumulator states sent back with Java
 * serialization and merged on the driver in partition order. Whole-run analyzers stay on the driver.
 */
package io.neuronmonkey.spark;
