module {
  func.func @vit(%x: tensor<2x37x192xf32>) -> tensor<2x37x64xf32> {
    %q = tensor.extract_slice %x[0, 0, 0] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
    %k = tensor.extract_slice %x[0, 0, 64] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
    %v = tensor.extract_slice %x[0, 0, 128] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
    %y = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x37x64xf32>
    return %y : tensor<2x37x64xf32>
  }
}
