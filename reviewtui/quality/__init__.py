"""Label quality: which labels are probably wrong, and who labeled what, how fast, how alike.

* ``suspects.py``    out-of-fold probabilities of the quick model ranked by cleanlab: labels that
                     are probably wrong, with the label the model would give;
* ``stars.py``       reviews whose star score says the opposite of their text's sentiment;
* ``agreement.py``   Cohen's kappa, Fleiss' kappa, Krippendorff's alpha, per-category agreement
                     and the assets on which authors disagree;
* ``stats.py``       per dataset version (added, relabeled, removed, transitions) and per author
                     (labels, skips, undos, seconds per label, labels per hour);
* ``provenance.py``  who made each change of a version diff, and when.

Services with explicit inputs (a store, an embedding cache, a typed settings section, arrays);
numpy only at import; scikit-learn, cleanlab and krippendorff load inside the functions.
"""
