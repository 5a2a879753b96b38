"""Keras TensorBoard: scalars, weight histograms and the model graph as TensorBoard event
files, written with the optional package tensorboardX."""
import os
import time

import numpy as np

from .base import Callback


def _tensorboardx():
    try:
        import tensorboardX
        from tensorboardX import summary
        from tensorboardX.proto import event_pb2, graph_pb2, node_def_pb2
    except ImportError as error:
        raise ImportError("TensorBoard writes its event files with the optional package "
                          "tensorboardX: pip install tensorboardX") from error
    return tensorboardX, summary, event_pb2, graph_pb2, node_def_pb2


class TensorBoard(Callback):
    """Keras TensorBoard(log_dir="logs", histogram_freq=0, write_graph=True,
    update_freq="epoch", ...): event files under `log_dir/train` and `log_dir/validation`
    with Keras's tags (`epoch_loss`, `batch_loss`, `<layer>/<weight>/histogram`,
    `evaluation_loss_vs_iterations`) and the model's graph from `model.graph`.

    The files are written by tensorboardX (an optional package), so no TensorFlow is needed.
    `write_images`, `profile_batch` and `embeddings_freq` are not supported (a
    NotImplementedError names them). With `update_freq` a number, batch logs are read back
    after every batch, as for any callback with batch hooks.

    Examples:
        >>> import tempfile
        >>> from graphnet import callbacks
        >>> board = callbacks.TensorBoard(tempfile.mkdtemp(), update_freq=10)
        >>> board.update_freq
        10
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        for name, value, off in (("write_images", write_images, False),
                                 ("profile_batch", profile_batch, 0),
                                 ("embeddings_freq", embeddings_freq, 0),
                                 ("embeddings_metadata", embeddings_metadata, None)):
            if value != off:
                raise NotImplementedError(f"TensorBoard: {name}={value!r} is not supported; "
                                          f"leave it at {off!r}")
        update_freq = 1 if update_freq == "batch" else update_freq
        if update_freq != "epoch" and (not isinstance(update_freq, (int, np.integer))
                                       or isinstance(update_freq, bool) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, received {update_freq!r}")
        if not isinstance(histogram_freq, (int, np.integer)) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an int >= 0, received "
                             f"{histogram_freq!r}")
        self._tbx = _tensorboardx()
        self.log_dir, self.histogram_freq = os.fspath(log_dir), int(histogram_freq)
        self.write_graph, self.write_steps_per_second = write_graph, write_steps_per_second
        self.write_images, self.profile_batch = write_images, profile_batch
        self.embeddings_freq, self.embeddings_metadata = embeddings_freq, embeddings_metadata
        self.update_freq = update_freq
        self._writers = {}
        self._global_train_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_first_batch = 0
        if update_freq != "epoch" or write_steps_per_second:
            # Instance hooks: only then does fit read the logs back after every batch.
            self.on_train_batch_begin = self._batch_begin
            self.on_train_batch_end = self._batch_end

    def _writer(self, which):
        if which not in self._writers:
            file_writer = self._tbx[0].writer.FileWriter
            self._writers[which] = file_writer(os.path.join(self.log_dir, which))
        return self._writers[which]

    def _scalar(self, which, tag, value, step):
        summary = self._tbx[1].scalar(tag, float(value))
        self._writer(which).add_summary(summary, int(step))

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph:
            self._writer("train").add_event(
                self._tbx[2].Event(graph_def=self.graph_def().SerializeToString()))

    def graph_def(self):
        """The model's graph (`model.graph`) as a TensorBoard GraphDef: a node per layer
        call, named by its key, with its layer's type as the op.

        Examples:
            >>> import tempfile
            >>> import graphnet
            >>> from graphnet import callbacks, layers
            >>> inputs = graphnet.Input((3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs))
            >>> board = callbacks.TensorBoard(tempfile.mkdtemp())
            >>> board.set_model(model)
            >>> [(node.name, node.op, list(node.input)) for node in board.graph_def().node]
            [('x', 'InputLayer', []), ('dense', 'Dense', ['x'])]
        """
        _, _, _, graph_pb2, node_def_pb2 = self._tbx
        graph = self.model.graph
        nodes = [node_def_pb2.NodeDef(name=str(node),
                                      op=type(graph.nodes[node]["layer"]).__name__,
                                      input=[str(p) for p in graph.predecessors(node)])
                 for node in graph.nodes]
        return graph_pb2.GraphDef(node=nodes)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_first_batch = self._global_train_batch

    def _batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.time()

    def _batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.write_steps_per_second:
            self._scalar("train", "batch_steps_per_second",
                         1.0 / max(time.time() - self._batch_start, 1e-9), step)
        if self.update_freq != "epoch" and step % self.update_freq == 0:
            for name, value in (logs or {}).items():
                if np.ndim(value) == 0:
                    self._scalar("train", f"batch_{name}", value, step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            seconds = max(time.time() - self._epoch_start, 1e-9)
            train["steps_per_second"] = (self._global_train_batch - self._epoch_first_batch) \
                / seconds
        for name, value in train.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in logs.items():
            if name.startswith("val_"):
                self._scalar("validation", f"epoch_{name[4:]}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _histograms(self, epoch):
        histogram = self._tbx[1].histogram
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = f"{weight.path.replace(':', '_')}/histogram"
                values = np.asarray(weight, np.float64)
                # 30 buckets, as tf.summary.histogram (Keras's writer) uses by default.
                self._writer("train").add_summary(histogram(tag, values, 30), epoch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations"):
            return
        for name, value in (logs or {}).items():
            self._scalar("validation", f"evaluation_{name}_vs_iterations", value,
                         optimizer.iterations)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
