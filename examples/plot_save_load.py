"""
Saving, loading and serving a model
===================================

:func:`sklearn_ae.save` writes a fitted estimator to a safetensors file (the
weights) with a JSON header (everything else); :func:`sklearn_ae.load` reads
it back without running any code from the file. :func:`sklearn_ae.to_onnx`
exports the encoder, decoder or outlier score for onnxruntime.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
from sklearn.datasets import load_digits

from sklearn_ae import Autoencoder, load, save, to_onnx

X, _ = load_digits(return_X_y=True)
X = X.astype(np.float32)
ae = Autoencoder(n_components=8, random_state=0).fit(X)

folder = Path(tempfile.mkdtemp())
path = save(ae, folder / "digits.safetensors")
loaded = load(path)
print("file size:", Path(path).stat().st_size // 1024, "KiB")
print("identical codes after loading:", np.array_equal(loaded.transform(X), ae.transform(X)))

# %%
# The outlier score as an ONNX graph: the standardisation, the network and the
# score in one model that onnxruntime runs on rows in X's units.
session = onnxruntime.InferenceSession(to_onnx(ae, "score_samples").SerializeToString())
served = session.run(None, {"X": X})[0]
print("largest difference from score_samples:", np.abs(served - ae.score_samples(X)).max())

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(ae.score_samples(X), served, s=4)
ax.set_xlabel("score_samples (sklearn_ae)")
ax.set_ylabel("ONNX model (onnxruntime)")
fig.tight_layout()
plt.show()
