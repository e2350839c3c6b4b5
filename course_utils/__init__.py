"""course_utils: the shared package of the Deep Learning for Computer Vision course."""

__version__ = "0.1.0"
