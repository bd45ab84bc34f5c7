"""Runs exported models with OpenCV's dnn module (Debian's python3-opencv) for
tests/test_onnx*.cpp. Usage: /usr/bin/python3 run_opencv.py JOBS.json (the format of
run_ort.js). Prints OpenCV's version."""
import json
import sys

import cv2
import numpy as np


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    for job in jobs:
        net = cv2.dnn.readNetFromONNX(job["model"])
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        x = np.fromfile(job["input"], dtype="<f4").reshape(job["shape"])
        net.setInput(x)
        y = net.forward()
        np.ascontiguousarray(y, dtype="<f4").tofile(job["output"])
    print("opencv " + cv2.__version__)


if __name__ == "__main__":
    main()
