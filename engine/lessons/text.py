"""What the lesson says about each key of the experiment, for the form's tooltips.

One or two sentences per key path, written from the lesson "Design and
Optimization of Deep Learning" that the app teaches, so that hovering a field
teaches the idea behind it rather than restating its name.  The form falls
back to the field's ``help`` in ``engine.config`` for any key missing here.
"""
from __future__ import annotations

LESSON_TEXT: dict[str, str] = {
    # -- run ------------------------------------------------------------------------------------
    "name": "A name for this run, shown in the legend when runs are compared side by side.",
    "seed": "Seeds the data, the initial weights and the order of the batches: same seed, same "
            "numbers, so two runs differ only in what you changed.",

    # -- data -----------------------------------------------------------------------------------
    "data.dataset": "What the network learns. With two inputs the learned function can be drawn as a "
                    "decision boundary; the image sets show the same effects at a realistic scale.",
    "data.n_train": "Training examples. A large enough network can memorize a small training set "
                    "perfectly, noise included; more data makes memorizing harder than learning "
                    "the pattern.",
    "data.n_val": "Validation examples, never trained on. Monitor both losses: a growing gap between "
                  "train and validation signals overfitting.",
    "data.noise": "Gaussian noise added to the 2-D points, so neighbouring classes overlap: a perfect "
                  "training fit then means the network memorized the noise.",
    "data.label_noise": "Fraction of training labels replaced by a wrong class. A network that fits "
                        "them has learned that \"example #3,742 maps to label 7\" instead of the "
                        "pattern: the memorizing that regularization fights.",
    "data.classes": "How many spiral arms or gaussian blobs: more classes, a harder boundary to draw.",
    "data.path": "The folder holding the four IDX files of MNIST or Fashion-MNIST "
                 "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                 "t10k-labels-idx1-ubyte).",
    "data.seed": "Seeds the data alone. Leave it empty and the run's seed draws the data too; set it "
                 "and a new run seed changes only the initial weights and the batches, so two runs "
                 "differ by luck, not by their data: how the members of a multi-seed band differ.",

    # -- model ----------------------------------------------------------------------------------
    "model.kind": "An MLP treats an image as a flat vector with no notion of which pixels are "
                  "neighbours; a CNN bakes that spatial structure into its filters.",
    "model.hidden": "Width of each hidden layer, separated by commas: \"32, 32\" is two layers of 32 "
                    "units. The deeper the stack, the more initialization and normalization matter.",
    "model.channels": "Channels of each convolution layer of the CNN, separated by commas; each "
                      "layer looks at neighbouring pixels before the dense layers classify.",
    "model.activation": "The nonlinearity after each hidden layer. ReLU kills half the signal "
                        "(negative values become zero), which is why He initialization doubles the "
                        "variance for it.",

    # -- initialization -------------------------------------------------------------------------
    "model.init": "Weight initialization is not a detail: too large and activations explode, too "
                  "small and gradients vanish. He keeps the signal steady through ReLU layers; Xavier "
                  "keeps tanh's roughly steady (over 20 layers it still fades about 4x); with sigmoid, "
                  "whose outputs are not centred on zero, the gradients vanish with depth whatever the "
                  "scheme.",
    "model.init_std": "The standard deviation of the `normal` init, whatever the layer's size: "
                      "try 0.01 and 1 on a deep network to watch the signal vanish or explode.",

    # -- optimizer ------------------------------------------------------------------------------
    "optimizer.name": "The update rule. AdamW is a common default in modern practice; SGD with "
                      "momentum 0.9 and a cosine schedule is the classic alternative on vision tasks.",
    "optimizer.lr": "The learning rate is arguably the single most important hyperparameter: too "
                    "large and training diverges, too small and it crawls.",
    "optimizer.momentum": "A velocity that smooths oscillations: like a heavy ball, the step builds "
                          "speed in consistent downhill directions and resists small bumps. A "
                          "typical value is 0.9.",
    "optimizer.nesterov": "Nesterov momentum takes the gradient after a look-ahead step along the "
                          "velocity, correcting course earlier. It needs momentum > 0.",
    "optimizer.betas": "Decay rates of Adam's running mean (β1) and running variance (β2) of the "
                       "gradient; the usual 0.9 and 0.999. Bias correction makes up for their zero "
                       "start.",
    "optimizer.eps": "Added to √v̂ in the denominator so that a parameter with a tiny gradient "
                     "history does not take a huge step (Adam's default is 1e-8).",
    "optimizer.alpha": "RMSprop keeps an exponential moving average of squared gradients instead of "
                       "AdaGrad's sum, so its rates stop shrinking to zero; alpha is how much of "
                       "the average each step keeps.",
    "optimizer.trust_coefficient": "LARS scales each layer's step to this fraction of the layer's weight norm "
                                   "(eta, 0.001 in its paper): local_lr = eta ||w|| / (||g|| + wd ||w|| + eps), "
                                   "so every layer moves by about lr x eta of its size, however large its "
                                   "gradient.",

    # -- schedule -------------------------------------------------------------------------------
    "schedule.name": "Changing the learning rate during training is almost always better than "
                     "keeping it fixed: large steps early to make progress, small steps late to "
                     "settle.",
    "schedule.warmup_steps": "Increase the rate linearly over the first steps: without warm-up the "
                             "first random gradients can push the weights far from their "
                             "initialization before anything useful is learned.",
    "schedule.step_size": "Step decay cuts the rate by gamma every step_size steps. Simple, but the "
                          "milestones need tuning by hand.",
    "schedule.gamma": "The decay factor: applied every step_size steps by step decay, after every "
                      "step by exponential decay.",
    "schedule.eta_min": "Cosine annealing glides from the learning rate down to this minimum, "
                        "reaching it exactly at the end of training.",
    "schedule.max_lr": "One-cycle's peak rate: warm up to it, then anneal far below the start. The "
                       "warm-up lets it use a high peak; in the schedules lesson it ends about level "
                       "with cosine, both far below a constant rate.",
    "schedule.pct_start": "The fraction of the steps that one-cycle spends rising to max_lr before "
                          "it anneals.",
    "schedule.cycle_momentum": "One-cycle lowers the momentum (or β1) while the rate is high and "
                               "raises it again as the rate falls; it overwrites the optimizer's "
                               "own value.",

    # -- regularization -------------------------------------------------------------------------
    "model.dropout": "Randomly silence each hidden unit with this probability while training, so "
                     "no single neuron can become irreplaceable: the knowledge spreads over many "
                     "pathways.",
    "optimizer.weight_decay": "An L2 pull of the weights toward zero that discourages overfitting. "
                              "Adam + L2 divides it by each weight's adaptive scale, so weights with "
                              "small gradients are pulled hardest; AdamW decouples it: every weight "
                              "shrinks by the same factor (1 − lr·λ) each step. Try 0.01 to 0.1 with "
                              "AdamW, 5e-4 with SGD.",
    "model.norm": "Batch norm normalizes each unit over the mini-batch (a smoother loss surface, "
                  "less sensitivity to initialization); layer norm normalizes each example over its "
                  "own features, independent of the batch.",

    "augment.shift": "Data augmentation enlarges the training set: each image is moved by up to this "
                     "many pixels every time it is seen, so the network must learn that a digit one "
                     "pixel to the left is the same digit. Images only; 0 is off.",
    "augment.rotate": "Turn each training image by a random angle up to this many degrees either way: "
                      "a 7 rotated 15 degrees is still a 7. Images only; 0 is off.",
    "augment.jitter": "Add fresh Gaussian noise of this standard deviation to every training input: "
                      "each 2-D point becomes a small cloud, and a boundary drawn tight around single "
                      "points stops paying. 0 is off.",
    "augment.mixup": "Mixup blends each training batch with a shuffled copy of itself, inputs and "
                     "labels alike, by a weight drawn from Beta(alpha, alpha): the network learns to "
                     "answer in between, not to memorize. Try 0.2 to 0.4; 0 is off.",

    # -- training -------------------------------------------------------------------------------
    "train.steps": "Optimizer steps to take, one mini-batch each.",
    "train.epochs": "Full passes over the training set; the last, partial batch of an epoch is "
                    "still a step.",
    "train.batch_size": "Examples per gradient estimate. A mini-batch is far cheaper than the whole "
                        "set, and its noise helps the descent escape shallow minima.",
    "train.grad_clip": "Cap the gradient's global norm at c: ĝ = g·min(1, c/‖g‖), so one huge "
                       "gradient cannot throw the weights far away.",
    "train.precision": "bf16 and fp16 run the forward pass in 16-bit floats while the weights and the "
                       "update stay float32 (master weights). bf16 keeps float32's range with 3 digits; "
                       "fp16 keeps 3-4 digits but nothing below 6e-8, so small gradients round to zero "
                       "unless the loss is scaled. On a GPU this is the 2-3x speed-up; on this CPU it is a "
                       "precision demo: measured (main.py bench) bf16 runs at 0.66-0.75x fp32's speed, fp16 at "
                       "0.41-0.76x.",
    "train.loss_scale": "fp16 only. dynamic multiplies the loss by S (from 65536) before backward and "
                        "divides the gradients by S after, so gradients under fp16's 6e-8 survive; a "
                        "step whose scaled gradient overflows is skipped and S halved (not divergence). "
                        "none: small gradients become exactly 0.",
    "train.eval_every": "Steps between measurements of loss and accuracy on the full training and "
                        "validation sets: watch both, the gap between them is overfitting.",
    "train.histogram_every": "Steps between histograms of the weights and gradients (0: never): see "
                             "whether the gradients survive the depth of the network.",
    "train.seeds": "Train K copies that differ only in their seed and draw every curve as their mean "
                   "with a band: one run is an anecdote, and two runs whose bands overlap are not "
                   "shown to differ.",
    "train.divergence_factor": "Stop the run as diverged when the batch loss grows past this "
                               "multiple of the starting loss, as it does when the learning rate "
                               "is too large.",
}
