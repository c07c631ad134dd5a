"""keras.io example "Collaborative Filtering for Movie Recommendations" (Siddhartha Banerjee).

Source: https://keras.io/examples/structured_data/collaborative_filtering_movielens/
(keras-team/keras-io, examples/structured_data/collaborative_filtering_movielens.py)

Changed: ``import keras`` -> ``import profond as keras`` (and ``from keras import layers,
ops``); the MovieLens ratings CSV (downloaded, read with pandas) is replaced by generated
ratings of the same form (user and movie indices, ratings 0.5 to 5 from hidden user and movie
factors): 100 users, 80 movies, 2,000 ratings; 3 epochs instead of 5; the plot and the
pandas look-up of movie titles left out (the top-10 ranking is kept).
"""

import numpy as np
import profond as keras
from profond import layers, ops

# Offline stand-in for ratings.csv: the encoded columns the example builds with pandas.
_rng = np.random.default_rng(4)
num_users, num_movies = 100, 80
_taste, _genre = _rng.normal(size=(num_users, 3)), _rng.normal(size=(num_movies, 3))
_user = _rng.integers(0, num_users, 2000)
_movie = _rng.integers(0, num_movies, 2000)
_score = (_taste[_user] * _genre[_movie]).sum(axis=1)
_rating = np.clip(np.round((2.75 + _score) * 2) / 2, 0.5, 5.0).astype(np.float32)
min_rating = min(_rating)
max_rating = max(_rating)
print(
    "Number of users: {}, Number of Movies: {}, Min rating: {}, Max rating: {}".format(
        num_users, num_movies, min_rating, max_rating
    )
)

"""
## Prepare training and validation data
"""
x = np.stack([_user, _movie], axis=1)
# Normalize the targets between 0 and 1. Makes it easy to train.
y = (_rating - min_rating) / (max_rating - min_rating)
# Assuming training on 90% of the data and validating on 10%.
train_indices = int(0.9 * len(x))
x_train, x_val, y_train, y_val = (
    x[:train_indices],
    x[train_indices:],
    y[:train_indices],
    y[train_indices:],
)

"""
## Create the model
"""
EMBEDDING_SIZE = 50


class RecommenderNet(keras.Model):
    def __init__(self, num_users, num_movies, embedding_size, **kwargs):
        super().__init__(**kwargs)
        self.num_users = num_users
        self.num_movies = num_movies
        self.embedding_size = embedding_size
        self.user_embedding = layers.Embedding(
            num_users,
            embedding_size,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )
        self.user_bias = layers.Embedding(num_users, 1)
        self.movie_embedding = layers.Embedding(
            num_movies,
            embedding_size,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )
        self.movie_bias = layers.Embedding(num_movies, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        user_bias = self.user_bias(inputs[:, 0])
        movie_vector = self.movie_embedding(inputs[:, 1])
        movie_bias = self.movie_bias(inputs[:, 1])
        dot_user_movie = ops.tensordot(user_vector, movie_vector, 2)
        # Add all the components (including bias)
        x = dot_user_movie + user_bias + movie_bias
        # The sigmoid activation forces the rating to between 0 and 1
        return ops.nn.sigmoid(x)


model = RecommenderNet(num_users, num_movies, EMBEDDING_SIZE)
model.compile(
    loss=keras.losses.BinaryCrossentropy(),
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
)

"""
## Train the model based on the data split
"""
history = model.fit(
    x=x_train,
    y=y_train,
    batch_size=64,
    epochs=3,
    verbose=1,
    validation_data=(x_val, y_val),
)

"""
## Show top 10 movie recommendations to a user
"""

user_id = 0
movies_watched_by_user = _movie[_user == user_id]
movies_not_watched = [[m] for m in range(num_movies) if m not in set(movies_watched_by_user)]
user_movie_array = np.hstack(([[user_id]] * len(movies_not_watched), movies_not_watched))
ratings = model.predict(user_movie_array).flatten()
top_ratings_indices = ratings.argsort()[-10:][::-1]
recommended_movie_ids = [movies_not_watched[i][0] for i in top_ratings_indices]
print("Here are the top 10 movie recommendations for user: {}".format(user_id))
print(recommended_movie_ids)
