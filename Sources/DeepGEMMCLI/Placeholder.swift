import DeepGEMM
