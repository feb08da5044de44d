#!/usr/bin/env python3
"""Writes data/iris.csv: Fisher's iris data (150 rows, 50 per species) for data/iris_network.json.

Source: R. A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of Eugenics 7
(1936), 179-188, as distributed by the UCI Machine Learning Repository (Iris, donated 1988,
doi:10.24432/C56C76, licence CC BY 4.0). The copy read here is the ARFF file that Debian 12's
python3-scipy ships (scipy/io/arff/tests/data/iris.arff, the UCI file with its header), so the CSV is
remade offline from a Debian package; the values are copied unchanged.

Columns: the four measurements in cm, and species as a class index (0 setosa, 1 versicolor,
2 virginica), the target of a softmax cross-entropy network.
Usage: python3 scripts/make_iris_csv.py > data/iris.csv
"""
import sys

ARFF = "/usr/lib/python3/dist-packages/scipy/io/arff/tests/data/iris.arff"
CLASSES = {"Iris-setosa": 0, "Iris-versicolor": 1, "Iris-virginica": 2}


def main():
    rows = []
    in_data = False
    with open(ARFF) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if line.upper().startswith("@DATA"):
                in_data = True
                continue
            if in_data:
                *values, species = line.split(",")
                rows.append(values + [str(CLASSES[species])])
    if len(rows) != 150:
        sys.exit("expected 150 rows, read %d" % len(rows))
    print("# Fisher's iris data (1936) via the UCI Machine Learning Repository (CC BY 4.0),")
    print("# made by scripts/make_iris_csv.py from Debian 12 python3-scipy's iris.arff")
    print("# species: 0 setosa, 1 versicolor, 2 virginica")
    print("sepal_length,sepal_width,petal_length,petal_width,species")
    for r in rows:
        print(",".join(r))


if __name__ == "__main__":
    main()
