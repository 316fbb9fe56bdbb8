"""The hyperparameter search lab (issue 12): grid, random, TPE and Gaussian-process search race on one
experiment, as ordinary Optuna studies in a storage that several processes or machines can join.

The search file (:mod:`.spec`, its ranges :mod:`.space`), what a trial is judged by (:mod:`.objectives`), the
methods on Optuna's samplers (:mod:`.methods`), one trial trained by the app's Trainer (:mod:`.trial`), the
storages by URL (:mod:`.storages`), the studies and their budget (:mod:`.studies`), a worker node (:mod:`.work`),
starting and joining a search (:mod:`.launch`), its files (:mod:`.results`), built-in searches (:mod:`.presets`).
"""
