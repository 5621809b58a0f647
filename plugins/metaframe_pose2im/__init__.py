"""The Pose2Im GAN (pix2pixHD-style generator and multi-scale discriminator) as a metaframe model.

Modules: :mod:`~metaframe_pose2im.model` (the ``pose2im`` TaskModel and its factory ``build``),
:mod:`~metaframe_pose2im.options` (options, named scales, ``scale_size``), :mod:`~metaframe_pose2im.networks`,
:mod:`~metaframe_pose2im.losses`, :mod:`~metaframe_pose2im.vgg`, :mod:`~metaframe_pose2im.metrics` (SSIM,
PSNR, MSE as scikit-image computes them), :mod:`~metaframe_pose2im.samples`,
:mod:`~metaframe_pose2im.pix2pixhd` and :mod:`~metaframe_pose2im.cli` (``metaframe convert``).
"""
