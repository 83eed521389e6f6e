/**
 * The data-source extension point: turning files or generators into batches of examples with ids, labels and
 * metadata.
 */
package io.neuronmonkey.api.data;
